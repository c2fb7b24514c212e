# Three stages: Node.js builds the front-end assets, pip builds the virtualenv, and the runtime
# image gets both without Node.js, npm or pip's caches. `docker compose up --build` uses it.

# 1. Front-end assets: the pinned npm packages (package-lock.json) copied into static/vendor/.
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/assets.sh scripts/
RUN bash scripts/assets.sh

# 2. Python packages from pyproject.toml into a virtualenv that the runtime stage copies.
FROM python:3.11-slim-bookworm AS python
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml ./
RUN pip install .

# 3. Runtime: Pango for WeasyPrint's PDFs, the virtualenv, the code and the collected assets.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY --from=python /opt/venv /opt/venv
WORKDIR /app
COPY . .
COPY --from=assets /src/static/vendor static/vendor
# Production settings refuse a short secret key, so collectstatic gets a throwaway long one.
RUN DSR_ENV=production DJANGO_ALLOWED_HOSTS=localhost \
    DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput -v0
RUN useradd --create-home dsr && mkdir -p /app/var/media && chown -R dsr /app/var
USER dsr
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "dsr.wsgi:application"]
