-- The application connects as an ordinary role so that row-level security binds it.
CREATE ROLE dsr LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'dsr';
CREATE DATABASE dsr OWNER dsr;
