#!/usr/bin/env bash
# The service as `make run` starts it: gunicorn in the foreground and one job worker (procrastinate,
# gis_portal.jobs) beside it, stopped (SIGTERM: it finishes its running job first) when gunicorn
# stops. A job left running by a worker that died anyway is retried by the next worker once the dead
# one has been silent for JOBS_STALLED_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python manage.py jobs_worker --name "$(hostname)-$$" &
worker=$!
trap 'kill -TERM "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true' EXIT
.venv/bin/gunicorn gis_portal.portal.wsgi --config gunicorn.conf.py
