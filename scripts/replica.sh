#!/usr/bin/env bash
# A streaming read replica of the local primary (127.0.0.1:5432) as a second PostgreSQL cluster on
# this machine, for the tests and for trying the read router (DATABASE_REPLICA_URLS):
#   scripts/replica.sh start    create it once (pg_basebackup -R), start it, wait until it streams
#   scripts/replica.sh stop     stop it (the data stays; start resumes streaming)
#   scripts/replica.sh status   cluster line, recovery, receiver and replay lag (exit 1 when down)
#   scripts/replica.sh pause    pause replaying WAL (the replica falls behind; for tests of lag)
#   scripts/replica.sh resume   resume replaying
#   scripts/replica.sh destroy  stop and remove the cluster
# Safe to run again. The primary is never restarted or reconfigured beyond what a reload takes: a
# replication role with a generated password (kept in ~postgres, 0600) and one pg_hba line. It needs
# wal_level replica or logical (Debian's default) and a free max_wal_senders slot.
# Physical replication copies the whole cluster, test_* databases included: a test database Django
# creates on the primary appears on the replica under the same name.
set -euo pipefail
action=${1:-status}
port=${REPLICA_PORT:-5433}
primary_port=${PRIMARY_PORT:-5432}
cluster=${REPLICA_CLUSTER:-replica}
role=gis_replicator

log() { printf '\033[1m[replica]\033[0m %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
as_postgres() { (cd / && as_root su postgres -s /bin/bash -c "$*"); }
# One value from the primary / the replica, as the postgres superuser over the local socket.
primary_sql() { as_postgres "psql -X -q -At -v ON_ERROR_STOP=1 -p $primary_port -d postgres" <<<"$1"; }
replica_sql() { as_postgres "psql -X -q -At -v ON_ERROR_STOP=1 -p $port -d postgres" <<<"$1"; }

pg_major=$(ls /etc/postgresql | sort -V | tail -n 1)
bin=/usr/lib/postgresql/$pg_major/bin
conf_dir=/etc/postgresql/$pg_major/$cluster
data_dir=/var/lib/postgresql/$pg_major/$cluster
pass_file=/var/lib/postgresql/.${role}.pass

exists() { pg_lsclusters -h | awk -v v="$pg_major" -v c="$cluster" '$1==v && $2==c {found=1} END {exit !found}'; }
online() { pg_lsclusters -h | awk -v v="$pg_major" -v c="$cluster" '$1==v && $2==c && $4 ~ /^online/ {found=1} END {exit !found}'; }
streaming() { [ "$(replica_sql "SELECT status FROM pg_stat_wal_receiver" 2>/dev/null)" = streaming ]; }

primary_prepare() {
  local wal_level
  wal_level=$(primary_sql "SHOW wal_level")
  if [ "$wal_level" = minimal ]; then
    echo "the primary has wal_level=minimal: set it to replica (a restart) before making a replica" >&2
    exit 1
  fi
  if [ ! -s "$pass_file" ]; then
    as_root sh -c "umask 077; python3 -c 'import secrets; print(secrets.token_urlsafe(24))' > '$pass_file'"
    as_root chown postgres:postgres "$pass_file"
  fi
  local password
  password=$(as_root cat "$pass_file")
  primary_sql "DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
      CREATE ROLE $role WITH REPLICATION LOGIN PASSWORD '$password';
    ELSE
      ALTER ROLE $role WITH REPLICATION LOGIN PASSWORD '$password';
    END IF;
  END \$\$;" >/dev/null
  local hba line
  hba=$(primary_sql "SHOW hba_file")
  line="host replication $role 127.0.0.1/32 scram-sha-256"
  if ! as_root grep -qxF "$line" "$hba"; then
    log "adding '$line' to $hba and reloading the primary (no restart)"
    printf '# streaming replica for the read router (scripts/replica.sh)\n%s\n' "$line" | as_root tee -a "$hba" >/dev/null
    primary_sql "SELECT pg_reload_conf()" >/dev/null
  fi
}

create() {
  log "creating cluster $pg_major/$cluster on port $port from a base backup of the primary"
  as_root pg_createcluster "$pg_major" "$cluster" --port "$port" --start-conf manual >/dev/null
  # A standby needs these at least as high as on its primary.
  {
    echo "# scripts/replica.sh: a hot standby of 127.0.0.1:$primary_port"
    echo "listen_addresses = '127.0.0.1'"
    echo "hot_standby = on"
    for setting in max_connections max_worker_processes max_wal_senders max_prepared_transactions max_locks_per_transaction; do
      echo "$setting = $(primary_sql "SHOW $setting")"
    done
  } | as_root tee "$conf_dir/conf.d/replica.conf" >/dev/null
  as_root find "$data_dir" -mindepth 1 -delete
  as_postgres "PGPASSFILE=/dev/null PGPASSWORD=\$(cat '$pass_file') $bin/pg_basebackup -h 127.0.0.1 -p $primary_port \
    -U $role -D '$data_dir' -R -X stream -c fast"
}

start() {
  primary_prepare
  exists || create
  if ! online; then
    log "starting $pg_major/$cluster on port $port"
    as_root pg_ctlcluster --skip-systemctl-redirect "$pg_major" "$cluster" start
  fi
  for _ in $(seq 60); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 0.5; done
  for _ in $(seq 40); do streaming && break; sleep 0.5; done
  if ! streaming; then
    # Typically the primary has recycled the WAL the stopped replica needed: take a new base backup.
    log "the replica does not stream (see /var/log/postgresql/postgresql-$pg_major-$cluster.log): rebuilding it"
    as_root pg_dropcluster --stop "$pg_major" "$cluster"
    create
    as_root pg_ctlcluster --skip-systemctl-redirect "$pg_major" "$cluster" start
    for _ in $(seq 60); do streaming && break; sleep 0.5; done
    streaming || { echo "the replica on port $port does not stream from the primary" >&2; exit 1; }
  fi
  # The standby lets in whom the primary lets in (pg_basebackup copies neither: Debian keeps them in /etc).
  local primary_hba
  primary_hba=$(primary_sql "SHOW hba_file")
  if ! as_root cmp -s "$primary_hba" "$conf_dir/pg_hba.conf"; then
    log "copying the primary's client authentication rules ($primary_hba) to the replica"
    as_root install -o postgres -g postgres -m 0640 "$primary_hba" "$conf_dir/pg_hba.conf"
    replica_sql "SELECT pg_reload_conf()" >/dev/null
  fi
  [ "$(replica_sql "SELECT pg_is_in_recovery()")" = t ] || { echo "port $port is not in recovery" >&2; exit 1; }
  log "replica streaming on 127.0.0.1:$port"
}

stop() {
  if online; then
    log "stopping $pg_major/$cluster"
    as_root pg_ctlcluster --skip-systemctl-redirect "$pg_major" "$cluster" stop -m fast
  fi
}

status() {
  exists || { echo "no cluster $pg_major/$cluster"; return 1; }
  pg_lsclusters -h | awk -v v="$pg_major" -v c="$cluster" '$1==v && $2==c'
  online || return 1
  replica_sql "SELECT 'in recovery: ' || pg_is_in_recovery(),
                      'receiver: ' || coalesce((SELECT status FROM pg_stat_wal_receiver), 'none'),
                      'replay lag: ' || CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN '0'
                        ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp())::text, '?') END || ' s'"
}

case "$action" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  pause) replica_sql "SELECT pg_wal_replay_pause()" >/dev/null ;;
  resume) replica_sql "SELECT pg_wal_replay_resume()" >/dev/null ;;
  destroy) exists && as_root pg_dropcluster --stop "$pg_major" "$cluster"; log "removed" ;;
  *) echo "usage: $0 start|stop|status|pause|resume|destroy" >&2; exit 2 ;;
esac
