#!/usr/bin/env bash
# The service as `make run` starts it: gunicorn and one job worker (procrastinate, gis_portal.jobs)
# beside it. SIGINT or SIGTERM to this script (or Ctrl-C) stops both (the worker finishes its running
# job first); if gunicorn stops, the worker is stopped too. A job left running by a worker that died
# anyway is retried by the next worker once the dead one has been silent for JOBS_STALLED_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python manage.py jobs_worker --name "$(hostname)-$$" &
worker=$!
.venv/bin/gunicorn gis_portal.portal.wsgi --config gunicorn.conf.py &
web=$!
stop() { kill -TERM "$web" "$worker" 2>/dev/null || true; }
trap stop INT TERM
wait "$web" || true
wait "$web" 2>/dev/null || true  # after a signal: until gunicorn has stopped
stop
wait "$worker" 2>/dev/null || true
