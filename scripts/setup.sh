#!/usr/bin/env bash
# Set up everything the portal needs on a Debian machine; safe to run any number of times.
#   scripts/setup.sh run   system packages, PostgreSQL+PostGIS, database, venv, migrations, Chongqing data
#   scripts/setup.sh test  the same without loading data (the tests build their own database), plus Chromium
# DATABASE_URL, if set in the environment, is used as given; otherwise a role and database of the
# service's own are created and their generated password is kept in the untracked .env file.
set -euo pipefail
mode=${1:-run}
cd "$(dirname "$0")/.."
root=$(pwd)

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
# psql as the postgres superuser over the local socket (peer auth on a fresh Debian); SQL on stdin.
# shellcheck source=scripts/role.sh
. scripts/role.sh
psql_super() { local db=$1; shift; (cd / && as_root su postgres -c "psql -X -q -v ON_ERROR_STOP=1 $* -d '$db'"); }

apt_updated=0
apt_install() {
  if [ $apt_updated -eq 0 ]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- system packages -------------------------------------------------------------------------
need=()
command -v pg_ctlcluster >/dev/null || need+=(postgresql postgresql-contrib)
command -v gdalinfo >/dev/null || need+=(gdal-bin)
command -v msgfmt >/dev/null || need+=(gettext)
command -v redis-server >/dev/null || need+=(redis-server)
python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
# The printed register: WeasyPrint lays out with Pango and subsets fonts with HarfBuzz; the Chinese
# text is embedded from Noto Sans CJK (fc-list comes with fontconfig).
for lib in libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0; do dpkg -s "$lib" >/dev/null 2>&1 || need+=("$lib"); done
command -v fc-list >/dev/null || need+=(fontconfig)
[ -n "$(fc-list 'Noto Sans CJK SC' 2>/dev/null)" ] || need+=(fonts-noto-cjk)
[ "$mode" = test ] && { command -v chromium >/dev/null || need+=(chromium); }
# pdftotext, pdffonts and pdftoppm read the register PDF in the tests.
[ "$mode" = test ] && { command -v pdftotext >/dev/null || need+=(poppler-utils); }
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"

pg_major=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
if [ -z "$pg_major" ]; then
  log "no PostgreSQL cluster found; creating one"
  pg_major=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  as_root pg_createcluster "$pg_major" main
fi
[ -f "/usr/share/postgresql/$pg_major/extension/postgis.control" ] || apt_install "postgresql-$pg_major-postgis-3"

# --- PostgreSQL running ----------------------------------------------------------------------
if ! pg_lsclusters -h | awk -v v="$pg_major" '$1==v && $2=="main"' | grep -q online; then
  log "starting PostgreSQL $pg_major"
  as_root pg_ctlcluster --skip-systemctl-redirect "$pg_major" main start
fi
for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }

# --- Redis running (the cache every worker shares: throttles, lock-outs, tiles) ---------------
touch .env  # untracked; absent on a fresh clone
redis_url=${REDIS_URL:-$(sed -n 's/^REDIS_URL=//p' .env | tail -n 1)}
redis_url=${redis_url:-redis://127.0.0.1:6379/0}
if [[ "$redis_url" =~ ^rediss?://(127\.0\.0\.1|localhost)(:6379)?(/|$) ]]; then
  if [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" != PONG ]; then
    log "starting Redis on 127.0.0.1:6379"
    as_root mkdir -p /var/lib/redis /var/log/redis
    as_root chown redis:redis /var/lib/redis /var/log/redis 2>/dev/null || true
    as_root start-stop-daemon --start --oknodo --chuid redis --exec "$(command -v redis-server)" -- \
      --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/redis-server.log
    for _ in $(seq 20); do [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ] && break; sleep 0.5; done
  fi
  [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ] || { echo "Redis did not start on 127.0.0.1:6379" >&2; exit 1; }
else
  log "REDIS_URL points at another host: it is expected to be running"
fi

# --- role, database, extensions --------------------------------------------------------------
if [ -z "${DATABASE_URL:-}" ] && ! grep -q '^DATABASE_URL=' .env; then
  password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
  echo "DATABASE_URL=postgis://gis_portal:${password}@127.0.0.1:5432/gis_portal" >> .env
  log "generated credentials for role gis_portal in .env"
fi
grep -q '^SECRET_KEY=' .env || echo "SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')" >> .env
chmod 600 .env
url=${DATABASE_URL:-$(sed -n 's/^DATABASE_URL=//p' .env | tail -n 1)}

# postgis://user[:password]@host[:port]/name
if [[ "$url" =~ ^postgi?s(ql)?://([^:@/]+)(:([^@]*))?@([^:/]+)(:([0-9]+))?/([^?]+) ]]; then
  db_user=${BASH_REMATCH[2]}; db_pass=${BASH_REMATCH[4]}; db_host=${BASH_REMATCH[5]}; db_name=${BASH_REMATCH[8]}
else
  echo "DATABASE_URL is not of the form postgis://user[:password]@host[:port]/name" >&2; exit 1
fi
case "$db_host" in
  127.0.0.1|localhost|::1)
    if [ "$db_user" != postgres ]; then
      role_sql "$db_user" "$db_pass" | psql_super postgres
    fi
    if [ -z "$(echo "SELECT 1 FROM pg_database WHERE datname = '${db_name}';" | psql_super postgres -t | tr -d ' \n')" ]; then
      log "creating database ${db_name}"
      echo "CREATE DATABASE \"${db_name}\" OWNER \"${db_user}\";" | psql_super postgres
    fi
    # template1 too, so that the test database Django creates has the extensions already.
    for db in "$db_name" template1; do
      printf 'CREATE EXTENSION IF NOT EXISTS postgis;\nCREATE EXTENSION IF NOT EXISTS pg_trgm;\n' | psql_super "$db"
    done
    ;;
  *) log "DATABASE_URL points at ${db_host}: its database and extensions are expected to exist" ;;
esac

# --- the tests' read replica: a second local cluster streaming from the first (tests/scale) ------
# --- and a third, throwaway one that the fault tests stop and start (tests/faults) ---------------
if [ "$mode" = test ]; then
  case "$db_host" in
    127.0.0.1|localhost|::1) bash scripts/replica.sh start; bash scripts/fault_cluster.sh start ;;
    *) log "DATABASE_URL points at ${db_host}: no local replica or fault cluster; tests/scale need REPLICA_PORT and tests/faults FAULT_PORT on 127.0.0.1" ;;
  esac
fi

# --- survey uploads' original files: outside the code, owned by who runs the service, 0750 ---------
media_root=${MEDIA_ROOT:-$(sed -n 's/^MEDIA_ROOT=//p' .env | tail -n 1)}
media_root=${media_root:-/var/lib/gis-portal/media}
if [ ! -d "$media_root" ]; then
  log "creating ${media_root} (MEDIA_ROOT)"
  as_root install -d -m 0750 -o "$(id -un)" -g "$(id -gn)" "$media_root"
fi

# --- Python virtual environment --------------------------------------------------------------
mkdir -p .setup-stamps
req_hash=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat .setup-stamps/requirements 2>/dev/null)" != "$req_hash" ]; then
  log "installing Python requirements"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  echo "$req_hash" > .setup-stamps/requirements
fi

.venv/bin/python manage.py compilemessages --ignore=.venv -v 0

if [ "$mode" = run ]; then
  .venv/bin/python manage.py migrate --noinput -v 0
  .venv/bin/python manage.py load_chongqing
fi
log "ready (${mode}) in ${root}"
