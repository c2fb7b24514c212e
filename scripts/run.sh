#!/usr/bin/env bash
# Start a Celery worker and beat in the background and the web server in the foreground. Each
# process gets only its own database credentials: the worker and beat the worker role's
# (DATABASE_WORKER_URL), the web server the runtime role's (DATABASE_URL); none the owner's.
#
# scripts/run.sh [serve|dev]
#   serve (make run): the service as its users see it: DEBUG off (the service's own error pages,
#         never Django's technical ones), static files from staticfiles/ through whitenoise (as in
#         production), gunicorn as the web server. Code changes need a restart.
#   dev   (make dev): Django's development server with DEBUG on and auto-reload, for working on
#         the code (technical error pages, static files read from static/ as they change).
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-serve}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
case "$MODE" in
  serve)
    export DJANGO_DEBUG=false
    WEB=(.venv/bin/gunicorn -c gunicorn.conf.py --bind "$HOST:$PORT" --workers "${GUNICORN_WORKERS:-2}" dsr.wsgi:application)
    ;;
  dev)
    export DJANGO_DEBUG=true
    WEB=(.venv/bin/python manage.py runserver "$HOST:$PORT")
    ;;
  *)
    echo "usage: scripts/run.sh [serve|dev]" >&2
    exit 2
    ;;
esac
if [ "${DSR_RUN_PRINT:-}" = "1" ]; then
  # Say what would be served, and stop (tests/test_make_run.py reads this).
  echo "DJANGO_DEBUG=$DJANGO_DEBUG ${WEB[*]}"
  exit 0
fi
mkdir -p var/log
: "${DATABASE_WORKER_URL:?set DATABASE_WORKER_URL (make run derives it from DATABASE_URL)}"
AS_WORKER=(env -u DATABASE_OWNER_URL DATABASE_URL="$DATABASE_WORKER_URL")
AS_RUNTIME=(env -u DATABASE_OWNER_URL -u DATABASE_WORKER_URL)
# One worker per queue (docs/operations.md, "Queues and workers"): a lead's PDF never waits
# behind a national build.
"${AS_WORKER[@]}" .venv/bin/celery -A dsr worker -Q "${DSR_QUEUE_INTERACTIVE:-interactive}" \
  -n interactive@%h --loglevel=INFO --concurrency=2 >var/log/worker.log 2>&1 &
WORKER=$!
"${AS_WORKER[@]}" .venv/bin/celery -A dsr worker -Q "${DSR_QUEUE_HEAVY:-heavy}" \
  -n heavy@%h --loglevel=INFO --concurrency=1 >var/log/worker-heavy.log 2>&1 &
HEAVY_WORKER=$!
"${AS_WORKER[@]}" .venv/bin/celery -A dsr beat --loglevel=INFO --schedule var/celerybeat-schedule >var/log/beat.log 2>&1 &
BEAT=$!
# Demo only: a local OpenID Connect provider (tests/oidc/provider.mjs, the one the tests use) so
# "Sign in with your organisation" can be tried. It is not an identity provider for real use: its
# people and password are printed below. DSR_DEMO_ORGANISATION=off leaves it out.
ORGANISATION=""
OIDC_PORT="${DSR_DEMO_OIDC_PORT:-9400}"
if [ "${DSR_DEMO_ORGANISATION:-on}" != "off" ] && command -v node >/dev/null 2>&1 \
    && [ -d node_modules/oidc-provider ]; then
  export DSR_OIDC_SECRET_DEMO="demo-organisation-secret"
  DSR_CLIENT_SECRET="$DSR_OIDC_SECRET_DEMO" node tests/oidc/provider.mjs "$OIDC_PORT" \
    >var/log/organisation.log 2>&1 &
  ORGANISATION=$!
  "${AS_WORKER[@]}" .venv/bin/python manage.py identity_provider --slug demo-organisation \
    --name "Demo Health Board" --issuer "http://127.0.0.1:$OIDC_PORT" --client-id dsr \
    --secret-env DSR_OIDC_SECRET_DEMO --domains demo.dsr.scot --authority S37000006 \
    --trust-mfa yes --enabled yes >/dev/null
fi
trap 'kill $WORKER $HEAVY_WORKER $BEAT $ORGANISATION 2>/dev/null || true' EXIT INT TERM
cat <<MSG

  Dynamic Support Register: http://$HOST:$PORT/

  Sign in with any demo account; the password for all is: Demo-register-2026
    authority lead:   lead.dumfries-and-galloway@demo.dsr.scot
    practitioner:     practitioner.dumfries-and-galloway@demo.dsr.scot
    viewer:           viewer.dumfries-and-galloway@demo.dsr.scot
    national analyst: analyst@demo.dsr.scot
  (every authority has lead., practitioner. and viewer. accounts named after it)

  Leads and the analyst then enter a code from an authenticator app. Either add this key
  to an app (time-based, 6 digits): $(DJANGO_SETTINGS_MODULE=dsr.settings .venv/bin/python -c 'import django; django.setup(); from registers.demo import demo_totp_base32 as k; print(k())')
  or print the current code with: .venv/bin/python manage.py demo_code

$(if [ -n "$ORGANISATION" ]; then cat <<ORG
  Sign in with your organisation (a local demo provider on port $OIDC_PORT, never for real use):
  type lead.dumfries-and-galloway@demo.dsr.scot, choose "Sign in with Demo Health Board", and
  sign in there with the password organisation-password. Its second factor counts for ours.
  Other demo.dsr.scot accounts: choose "Sign in with a password instead".

ORG
fi)
  Celery worker and beat logs: var/log/. Press Ctrl+C to stop.
$(if [ "$MODE" = "dev" ]; then echo "  Development mode: DEBUG on, code changes reload the server."; else echo "  Served as users see it (DEBUG off); for development with auto-reload use: make dev"; fi)

MSG
"${AS_RUNTIME[@]}" "${WEB[@]}"
