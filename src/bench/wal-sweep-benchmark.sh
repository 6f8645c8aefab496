#!/usr/bin/env bash
# WAL sweep benchmark: `cellar archive-wal` on real pgbench WAL segments, next to cp + fsync.
#
#   mvn -B -DskipTests package && src/bench/wal-sweep-benchmark.sh [SEGMENTS]     (default 100)
#
# Starts a throwaway cluster archiving through cellar-wal-archive, runs pgbench until SEGMENTS
# segments are spooled, stops the cluster, then times (wall seconds):
#   1. cp of the segments into an empty directory, then sync of the copies;
#   2. cellar archive-wal (validate, zstd, store write-once, remove from the spool), including JVM
#      start, and the sweep step alone (from the job's own step timing);
# and prints segments/s, MiB/s and the stored size. Stops exactly the cluster it started (pg_ctl -D
# its data directory) and deletes its directory. Runs as root too (the server then runs as postgres).
set -euo pipefail

want=${1:-100}
here=$(cd "$(dirname "$0")/../.." && pwd)
dist=$here/target/cellar
[ -x "$dist/bin/cellar" ] || { echo "build first: mvn -B -DskipTests package" >&2; exit 2; }
bin=${PG_BIN:-$(pg_config --bindir 2>/dev/null || true)}
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
fi

work=$(mktemp -d /tmp/cellar-walbench.XXXXXX)
chmod 755 "$work"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    as_pg "$bin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

port=$((20000 + RANDOM % 20000))
while (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
mkdir -p "$work/spool" "$work/repo" "$work/home" "$work/segments" "$work/cp"
[ "$(id -u)" = 0 ] && chown postgres: "$work" "$work/spool"
as_pg "$bin/initdb" -D "$work/data" -U postgres -A trust --data-checksums --no-sync >/dev/null
cat >> "$work/data/postgresql.conf" <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
wal_level = replica
archive_mode = on
archive_command = '$dist/bin/cellar-wal-archive $work/spool %p %f'
max_wal_size = 4GB
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
cellar() { "$dist/bin/cellar" --config "$work/cellar.yaml" "$@"; }
spooled() { find "$work/spool" -maxdepth 1 -name '????????????????????????' | wc -l; }

echo "Generating $want WAL segments with pgbench ..."
cellar archive-wal main >/dev/null 2>&1 || true      # records the server's identity
# pgbench's initialisation is WAL-logged: a scale unit writes a little under one 16 MiB segment
"$bin/pgbench" -i -q -s $((want * 13 / 10 + 10)) -h "$work" -p "$port" -U postgres postgres >/dev/null 2>&1
while [ "$(spooled)" -lt "$want" ]; do
    "$bin/pgbench" -h "$work" -p "$port" -U postgres -c 2 -j 2 -T 5 postgres >/dev/null 2>&1
done
as_pg "$bin/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null
# exactly $want segments, kept aside as the input of every run
find "$work/spool" -maxdepth 1 -name '????????????????????????' | sort | head -n "$want" | xargs -I{} mv {} "$work/segments/"
rm -f "$work/spool"/*
bytes=$(du -sb "$work/segments" | cut -f1)
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
mib() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / 1048576 / s }'; }

sync
t0=$(now); cp "$work/segments"/* "$work/cp/"; sync -f "$work/cp"; for f in "$work/cp"/*; do sync "$f"; done; t1=$(now)
cp_s=$(secs "$t0" "$t1")

cp "$work/segments"/* "$work/spool/"; sync
before=$(du -sb "$work/repo" | cut -f1)
t0=$(now); cellar archive-wal main >"$work/sweep.log" 2>&1 || { cat "$work/sweep.log"; exit 1; }; t1=$(now)
sweep_s=$(secs "$t0" "$t1")
step_s=$(grep -o 'step wal-sweep.sweep: COMPLETED.*took [0-9.]*s' "$work/sweep.log" | grep -o '[0-9.]*s$' | tr -d s)
stored=$(( $(du -sb "$work/repo" | cut -f1) - before ))
left=$(spooled)

echo
echo "$want pgbench WAL segments, $(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1048576 }') MiB; $(nproc) cores"
printf '%-46s %8s %10s %8s\n' "what" "seconds" "segments/s" "MiB/s"
printf '%-46s %8s %10s %8s\n' "cp + sync" "$cp_s" "$(rate "$want" "$cp_s")" "$(mib "$bytes" "$cp_s")"
printf '%-46s %8s %10s %8s\n' "cellar archive-wal (including JVM start)" "$sweep_s" "$(rate "$want" "$sweep_s")" "$(mib "$bytes" "$sweep_s")"
printf '%-46s %8s %10s %8s\n' "  its wal-sweep.sweep step" "$step_s" "$(rate "$want" "$step_s")" "$(mib "$bytes" "$step_s")"
echo "stored: $(awk -v b="$stored" 'BEGIN { printf "%.1f", b / 1048576 }') MiB ($(awk -v a="$stored" -v b="$bytes" 'BEGIN { printf "%.1f", 100 * a / b }')% of the WAL); left in the spool: $left"
