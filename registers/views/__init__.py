"""The register's pages, by subject: the register as a whole (`register`), one person's pages
(`people`), what is recorded on a record (`records`), transfers (`transfers`), localities, the
register's files and data protection (`data`), and what needs attention. `common` holds what they
share. Thin: parse the form, call a selector or a service, render.

Every person is reached through `access.person_for_read/_for_write` (out of scope is 404); every
change goes through registers/services/, with the version the form was opened at, so a
concurrent edit is refused and explained instead of overwritten. Nothing is re-exported here:
urls.py names each module.
"""
