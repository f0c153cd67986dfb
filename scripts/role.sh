# Sourced by scripts/setup.sh and scripts/fault_cluster.sh: the SQL that creates the service's
# role, or brings an existing one to LOGIN CREATEDB with the given password (none: no password).
#   role_sql USER PASSWORD | <psql as a superuser>
role_sql() {
  local pw_sql=""
  [ -n "$2" ] && pw_sql="PASSWORD '$2'"
  cat <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$1') THEN
    CREATE ROLE "$1" LOGIN CREATEDB ${pw_sql};
  ELSE
    ALTER ROLE "$1" LOGIN CREATEDB ${pw_sql};
  END IF;
END \$\$;
SQL
}
