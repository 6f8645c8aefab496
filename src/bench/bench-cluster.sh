# Shared by the benchmark scripts (sourced, not run): a throwaway PostgreSQL cluster archiving
# through cellar-wal-archive, a Cellar configuration for it, and small helpers.
#
#   . "$(dirname "$0")/bench-cluster.sh" NAME TOOL...    # NAME names the work directory; TOOLs must exist
#   bench_start_cluster "extra postgresql.conf lines"
#
# Sets here, dist, bin (PostgreSQL binaries: PG_BIN, pg_config --bindir, or the newest
# /usr/lib/postgresql/*/bin), work, port; defines as_pg (the PostgreSQL OS user when root), psql,
# cellar, now, secs, mb, rate, and pgbr, pgbr_setup, pgbr_run for pgBackRest on the same cluster. On exit it stops exactly the cluster it started (pg_ctl -D its data
# directory) and deletes the work directory, unless KEEP_WORK is set, and the `cellar serve` bench_start_serve
# started (its PID). bench_localized_workload is the localized workload of the backup benchmarks.

here=$(cd "$(dirname "$0")/../.." && pwd)
dist=$here/target/cellar
[ -x "$dist/bin/cellar" ] || { echo "build first: mvn -B -DskipTests package" >&2; exit 2; }

bin=${PG_BIN:-$(pg_config --bindir 2>/dev/null || true)}
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fi
bench_name=$1
shift
for tool in initdb pg_ctl "$@"; do
    [ -x "$bin/$tool" ] || { echo "missing $bin/$tool (set PG_BIN)" >&2; exit 2; }
done

work=$(mktemp -d "/tmp/cellar-$bench_name.XXXXXX")
chmod 755 "$work"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
bench_cleanup() {
    as_pg "$bin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true
    if [ -n "${KEEP_WORK:-}" ]; then echo "kept $work (cluster stopped)"; else rm -rf "$work"; fi
}

port=$((20000 + RANDOM % 20000))
while (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
mkdir -p "$work/spool" "$work/repo" "$work/home"
if [ "$(id -u)" = 0 ]; then chown postgres: "$work" "$work/spool"; fi

psql() { "$bin/psql" -X -q -h "$work" -p "$port" -U postgres "$@"; }
cellar() { "$dist/bin/cellar" --config "$work/cellar.yaml" "$@"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
# `cellar serve --no-web` on this configuration, in the background; bench_stop_serve stops exactly it (its PID, SIGTERM).
serve_pid=
bench_start_serve() {
    "$dist/bin/cellar" --config "$work/cellar.yaml" serve --no-web >"$work/serve.log" 2>&1 &
    serve_pid=$!
}
bench_stop_serve() {
    if [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then
        kill -TERM "$serve_pid" 2>/dev/null || true
        wait "$serve_pid" 2>/dev/null || true
    fi
    serve_pid=
}
trap 'bench_stop_serve; bench_cleanup' EXIT

# The java bin/cellar runs and the start-up archives and caches in the distribution (bin/cellar, "Class data sharing";
# on Java 25, without an aot-*-backup.aot the first backup records one and is slower: run the benchmark twice).
bench_runtime() {
    local j=java; [ -n "${JAVA_HOME:-}" ] && j=$JAVA_HOME/bin/java
    echo "java: $("$j" -version 2>&1 | head -1); start-up cache in $dist/cds: $(cd "$dist/cds" 2>/dev/null && ls -- *.jsa *.aot 2>/dev/null | tr '\n' ' ')"
}
rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / 1048576 / s }'; }

# initdb (data checksums), the archiving settings plus $1, start; then the Cellar configuration.
bench_start_cluster() {
    as_pg "$bin/initdb" -D "$work/data" -U postgres -A trust --data-checksums --no-sync >/dev/null
    cat >> "$work/data/postgresql.conf" <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
wal_level = replica
archive_mode = on
archive_command = '$dist/bin/cellar-wal-archive $work/spool %p %f'
max_wal_size = 4GB
${1:-}
EOF
    as_pg "$bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
    cat > "$work/cellar.yaml" <<EOF
cellar:
  home: $work/home
  repository: $work/repo
  servers:
    main:
      conninfo: "jdbc:postgresql://127.0.0.1:$port/postgres?user=postgres"
      pgdata: $work/data
      wal-spool: $work/spool
EOF
}

# pgBackRest, when installed and PGBACKREST is not 'off': pgbr is its path (empty otherwise); pgbr_setup writes its
# configuration for this cluster into $work/pgbr (zstd:3, process-max 2, block incremental with bundles, start-fast,
# archive-check off: the cluster archives through Cellar) and creates the stanza 'bench'; pgbr_run runs it as the
# cluster's OS user.
pgbr=
if [ "${PGBACKREST:-auto}" != off ] && command -v pgbackrest >/dev/null 2>&1; then pgbr=$(command -v pgbackrest); fi
pgbr_run() { as_pg "$pgbr" --config="$work/pgbr/pgbackrest.conf" --stanza=bench "$@"; }
pgbr_setup() {
    mkdir -p "$work/pgbr/repo" "$work/pgbr/log" "$work/pgbr/lock"
    cat > "$work/pgbr/pgbackrest.conf" <<EOF
[global]
repo1-path=$work/pgbr/repo
repo1-bundle=y
repo1-block=y
beta=y
compress-type=zst
compress-level=3
process-max=2
start-fast=y
archive-check=n
lock-path=$work/pgbr/lock
log-path=$work/pgbr/log
log-level-console=warn
log-level-file=info

[bench]
pg1-path=$work/data
pg1-port=$port
pg1-socket-path=$work
pg1-user=postgres
EOF
    if [ "$(id -u)" = 0 ]; then chown -R postgres: "$work/pgbr"; fi
    pgbr_run stanza-create >"$work/pgbr-stanza.log" 2>&1 || { cat "$work/pgbr-stanza.log"; exit 1; }
}
# The localized workload on pgbench at scale $1: 1% of pgbench_accounts rows in one contiguous aid range
# starting at $2 updated, 1% rows appended to pgbench_history, then a checkpoint.
bench_localized_workload() {
    local one_pct=$(($1 * 1000)) start=$2
    psql -c "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid BETWEEN $start AND $((start + one_pct - 1))" \
         -c "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) SELECT 1, 1, g, 1, now() FROM generate_series(1, $one_pct) g" \
         -c "CHECKPOINT"
}
