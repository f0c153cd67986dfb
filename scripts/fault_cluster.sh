#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the fault tests that stop and start PostgreSQL for real
# (tests/faults/test_postgres_restart.py), so that neither the main cluster (5432) nor the replica
# (5433) is ever stopped:
#   scripts/fault_cluster.sh start    create it once (pg_createcluster), start it, and give it the
#                                     service's role (from DATABASE_URL or .env, same password, CREATEDB)
#                                     with postgis and pg_trgm in template1
#   scripts/fault_cluster.sh stop     stop it, fast (pg_ctlcluster stop -m fast: connections are ended)
#   scripts/fault_cluster.sh status   its cluster line (exit 1 when down)
#   scripts/fault_cluster.sh destroy  stop and remove it
# Safe to run again. Nothing in it is worth keeping: it runs without fsync.
set -euo pipefail
action=${1:-status}
port=${FAULT_PORT:-5434}
cluster=${FAULT_CLUSTER:-faults}
cd "$(dirname "$0")/.."
# shellcheck source=scripts/role.sh
. scripts/role.sh

log() { printf '\033[1m[faults]\033[0m %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { (cd / && as_root su postgres -s /bin/bash -c "$*"); }
sql() { as_postgres "psql -X -q -At -v ON_ERROR_STOP=1 -p $port -d $1"; }

pg_major=$(ls /etc/postgresql | sort -V | tail -n 1)
conf_dir=/etc/postgresql/$pg_major/$cluster

exists() { pg_lsclusters -h | awk -v v="$pg_major" -v c="$cluster" '$1==v && $2==c {found=1} END {exit !found}'; }
online() { pg_lsclusters -h | awk -v v="$pg_major" -v c="$cluster" '$1==v && $2==c && $4 ~ /^online/ {found=1} END {exit !found}'; }

create() {
  log "creating cluster $pg_major/$cluster on port $port"
  as_root pg_createcluster "$pg_major" "$cluster" --port "$port" --start-conf manual >/dev/null
  {
    echo "# scripts/fault_cluster.sh: throwaway, for the fault tests"
    echo "listen_addresses = '127.0.0.1'"
    echo "max_connections = 40"
    echo "shared_buffers = 32MB"
    echo "fsync = off"
    echo "synchronous_commit = off"
    echo "full_page_writes = off"
  } | as_root tee "$conf_dir/conf.d/faults.conf" >/dev/null
}

# The service's role, as DATABASE_URL names it (the environment first, then .env).
role() {
  local url
  url=${DATABASE_URL:-$(sed -n 's/^DATABASE_URL=//p' .env 2>/dev/null | tail -n 1)}
  if [[ "$url" =~ ^postgi?s(ql)?://([^:@/]+)(:([^@]*))?@ ]]; then
    db_user=${BASH_REMATCH[2]}; db_pass=${BASH_REMATCH[4]}
  else
    db_user=postgres; db_pass=
  fi
}

start() {
  exists || create
  if ! online; then
    log "starting $pg_major/$cluster on port $port"
    as_root pg_ctlcluster --skip-systemctl-redirect "$pg_major" "$cluster" start
  fi
  for _ in $(seq 60); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 0.25; done
  pg_isready -q -h 127.0.0.1 -p "$port" || { echo "the fault cluster did not start on 127.0.0.1:$port" >&2; exit 1; }
  role
  if [ "$db_user" != postgres ]; then
    role_sql "$db_user" "$db_pass" | sql postgres >/dev/null
  fi
  printf 'SET client_min_messages = warning;\nCREATE EXTENSION IF NOT EXISTS postgis;\nCREATE EXTENSION IF NOT EXISTS pg_trgm;\n' | sql template1 >/dev/null
  log "fault cluster up on 127.0.0.1:$port"
}

stop() {
  if online; then
    as_root pg_ctlcluster --skip-systemctl-redirect "$pg_major" "$cluster" stop -m fast
  fi
}

case "$action" in
  start) start ;;
  stop) stop ;;
  status) exists || { echo "no cluster $pg_major/$cluster"; exit 1; }
          pg_lsclusters -h | awk -v v="$pg_major" -v c="$cluster" '$1==v && $2==c'; online ;;
  destroy) if exists; then as_root pg_dropcluster --stop "$pg_major" "$cluster"; fi; log "removed" ;;
  *) echo "usage: $0 start|stop|status|destroy" >&2; exit 2 ;;
esac
