#!/usr/bin/env bash
# Base-backup benchmark: Cellar next to pg_basebackup on the same pgbench data.
#
#   mvn -B -DskipTests package && src/bench/backup-benchmark.sh [SCALE]     (default scale 50)
#
# Creates a throwaway cluster (initdb with data checksums, a free loopback port, archiving through
# cellar-wal-archive), loads pgbench at SCALE, then measures, each as wall seconds including process
# start (the JVM's for Cellar):
#   1. cellar backup --full                 (zstd level 3, parallel 2)
#   2. pg_basebackup -Ft -X none            (plain tar, no compression)
#   3. pg_basebackup -Ft -X none --compress=server-zstd
#   4. a random pgbench workload (pgbench -T), then an incremental cellar backup
#   5. a localized workload (1% of pgbench_accounts rows in one contiguous aid range updated,
#      1% rows appended to pgbench_history), then an incremental cellar backup
# and prints MB/s and the bytes each adds to its target. It stops exactly the cluster it started
# (pg_ctl -D its data directory) and deletes its directory. Runs as root too (the server then runs
# as the 'postgres' OS user). Needs PostgreSQL server and client binaries (pgbench, pg_basebackup).
set -euo pipefail

scale=${1:-50}
workload_seconds=${WORKLOAD_SECONDS:-30}
here=$(cd "$(dirname "$0")/../.." && pwd)
dist=$here/target/cellar
[ -x "$dist/bin/cellar" ] || { echo "build first: mvn -B -DskipTests package" >&2; exit 2; }

bin=${PG_BIN:-$(pg_config --bindir 2>/dev/null || true)}
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fi
for tool in initdb pg_ctl pgbench pg_basebackup psql; do
    [ -x "$bin/$tool" ] || { echo "missing $bin/$tool (set PG_BIN)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/cellar-bench.XXXXXX)
chmod 755 "$work"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    as_pg "$bin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

port=$((20000 + RANDOM % 20000))
while (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done

mkdir -p "$work/spool" "$work/repo" "$work/home"
[ "$(id -u)" = 0 ] && chown -R postgres: "$work/spool" && chown postgres: "$work"
as_pg "$bin/initdb" -D "$work/data" -U postgres -A trust --data-checksums --no-sync >/dev/null
cat >> "$work/data/postgresql.conf" <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
wal_level = replica
archive_mode = on
archive_command = '$dist/bin/cellar-wal-archive $work/spool %p %f'
max_wal_senders = 4
shared_buffers = 256MB
max_wal_size = 4GB
EOF
as_pg "$bin/pg_ctl" -D "$work/data" -l "$work/server.log" -w start >/dev/null
psql() { "$bin/psql" -X -q -h "$work" -p "$port" -U postgres "$@"; }

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
cellar() { "$dist/bin/cellar" --config "$work/cellar.yaml" "$@"; }
repo_bytes() { du -sb "$work/repo" | cut -f1; }
now() { date +%s.%N; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
rate() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / 1048576 / s }'; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

echo "Loading pgbench scale $scale on port $port ..."
"$bin/pgbench" -i -q -s "$scale" -h "$work" -p "$port" -U postgres postgres >/dev/null 2>&1
psql -c "VACUUM ANALYZE" -c "CHECKPOINT"
sleep 1.1
db_bytes=$(psql -At -c "SELECT sum(pg_database_size(oid)) FROM pg_database")
data_bytes=$(du -sb --exclude=pg_wal "$work/data" | cut -f1)

rows=()
row() { rows+=("$(printf '%-44s %8s %8s %10s %10s' "$1" "$2" "$3" "$4" "$5")"); }

# 1. Cellar full
before=$(repo_bytes); t0=$(now)
cellar backup main --full >"$work/full.log" 2>&1 || { cat "$work/full.log"; exit 1; }
t1=$(now); full_s=$(secs "$t0" "$t1"); full_added=$(( $(repo_bytes) - before ))
row "cellar backup --full (zstd:3)" "$full_s" "$(rate "$data_bytes" "$full_s")" "$(mb "$full_added")" "100%"

# 2, 3. pg_basebackup
for variant in "plain" "server-zstd"; do
    rm -rf "$work/pgbb"
    t0=$(now)
    if [ "$variant" = plain ]; then
        "$bin/pg_basebackup" -h "$work" -p "$port" -U postgres -D "$work/pgbb" -Ft -X none -c fast --no-manifest
    else
        "$bin/pg_basebackup" -h "$work" -p "$port" -U postgres -D "$work/pgbb" -Ft -X none -c fast --no-manifest --compress=server-zstd
    fi
    t1=$(now); s=$(secs "$t0" "$t1"); added=$(du -sb "$work/pgbb" | cut -f1)
    row "pg_basebackup -Ft ($variant)" "$s" "$(rate "$data_bytes" "$s")" "$(mb "$added")" "-"
done
rm -rf "$work/pgbb"

# 4. random pgbench workload, then an incremental
"$bin/pgbench" -h "$work" -p "$port" -U postgres -c 2 -j 2 -T "$workload_seconds" postgres >/dev/null 2>&1
psql -c "CHECKPOINT"
before=$(repo_bytes); t0=$(now)
cellar backup main >"$work/incr1.log" 2>&1 || { cat "$work/incr1.log"; exit 1; }
t1=$(now); s=$(secs "$t0" "$t1"); added=$(( $(repo_bytes) - before ))
row "incremental after pgbench -T $workload_seconds" "$s" "$(rate "$data_bytes" "$s")" "$(mb "$added")" \
    "$(awk -v a="$added" -v f="$full_added" 'BEGIN { printf "%.1f%%", 100 * a / f }')"

# 5. localized workload: 1% of accounts in one contiguous range, 1% rows appended to history
accounts=$((scale * 100000)); one_pct=$((accounts / 100)); start=$((accounts / 2))
psql -c "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid BETWEEN $start AND $((start + one_pct - 1))" \
     -c "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) SELECT 1, 1, g, 1, now() FROM generate_series(1, $one_pct) g" \
     -c "CHECKPOINT"
before=$(repo_bytes); t0=$(now)
cellar backup main >"$work/incr2.log" 2>&1 || { cat "$work/incr2.log"; exit 1; }
t1=$(now); s=$(secs "$t0" "$t1"); added=$(( $(repo_bytes) - before ))
row "incremental after 1% contiguous + appends" "$s" "$(rate "$data_bytes" "$s")" "$(mb "$added")" \
    "$(awk -v a="$added" -v f="$full_added" 'BEGIN { printf "%.1f%%", 100 * a / f }')"
loc_time_pct=$(awk -v a="$s" -v f="$full_s" 'BEGIN { printf "%.0f%%", 100 * a / f }')

echo
echo "pgbench scale $scale: database $(mb "$db_bytes") MiB, data directory without pg_wal $(mb "$data_bytes") MiB; $(nproc) cores"
printf '%-44s %8s %8s %10s %10s\n' "what" "seconds" "MiB/s" "added MiB" "vs full"
printf '%s\n' "${rows[@]}"
echo "localized incremental time vs full: $loc_time_pct"
