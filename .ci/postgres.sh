# Sourced by .ci/run: starts Debian's PostgreSQL cluster on loopback and exports PIA_POLICY_TEST_PG_URL.
pg_ver=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
if ! pg_lsclusters -h 2>/dev/null | grep -q "^${pg_ver} main"; then
  $SUDO pg_createcluster "$pg_ver" main >/dev/null
fi
$SUDO pg_ctlcluster "$pg_ver" main start 2>/dev/null || true
for _ in $(seq 1 30); do
  $SUDO su postgres -c "psql -h 127.0.0.1 -p 5432 -Atc 'select 1'" >/dev/null 2>&1 && break
  $SUDO su postgres -c "psql -Atc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done
$SUDO su postgres -c "psql -q -c \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='pia') THEN CREATE ROLE pia LOGIN PASSWORD 'pia'; END IF; END \\\$\\\$;\"" >/dev/null
$SUDO su postgres -c "psql -Atc \"SELECT 1 FROM pg_database WHERE datname='pia_test'\"" | grep -q 1 \
  || $SUDO su postgres -c "createdb -O pia pia_test"
export PIA_POLICY_TEST_PG_URL="postgresql+psycopg://pia:pia@127.0.0.1:5432/pia_test"
echo "ci: PostgreSQL ${pg_ver} on 127.0.0.1:5432 (PIA_POLICY_TEST_PG_URL set)"
