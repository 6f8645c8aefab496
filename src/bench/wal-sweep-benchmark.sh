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
#   3. the sweep step again with WAL summaries off and on (-Dcellar.wal-summaries=off through
#      CELLAR_JAVA_OPTS), each on a fresh copy of the spool into an empty wal/ directory, alternating
#      off/on/off/on, and the summaries' size per segment;
# and prints segments/s, MiB/s and the stored size. Stops exactly the cluster it started (pg_ctl -D
# its data directory) and deletes its directory. Runs as root too (the server then runs as postgres).
set -euo pipefail

want=${1:-100}
. "$(dirname "$0")/bench-cluster.sh" walbench pgbench
mkdir -p "$work/segments" "$work/cp"
bench_start_cluster
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
per_second() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

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
printf '%-46s %8s %10s %8s\n' "cp + sync" "$cp_s" "$(per_second "$want" "$cp_s")" "$(rate "$bytes" "$cp_s")"
printf '%-46s %8s %10s %8s\n' "cellar archive-wal (including JVM start)" "$sweep_s" "$(per_second "$want" "$sweep_s")" "$(rate "$bytes" "$sweep_s")"
printf '%-46s %8s %10s %8s\n' "  its wal-sweep.sweep step" "$step_s" "$(per_second "$want" "$step_s")" "$(rate "$bytes" "$step_s")"
echo "stored: $(awk -v b="$stored" 'BEGIN { printf "%.1f", b / 1048576 }') MiB ($(awk -v a="$stored" -v b="$bytes" 'BEGIN { printf "%.1f", 100 * a / b }')% of the WAL); left in the spool: $left"

# WAL summaries off and on: the sweep step alone, the same segments each time into an empty wal/
step_of() { grep -o 'step wal-sweep.sweep: COMPLETED.*took [0-9.]*s' "$1" | grep -o '[0-9.]*s$' | tr -d s; }
sweep_again() {
    rm -rf "$work/repo/main/wal" "$work/repo/main/wal-errors"
    cp "$work/segments"/* "$work/spool/"; sync
    CELLAR_JAVA_OPTS="$1" cellar archive-wal main >"$work/sweep-again.log" 2>&1 || { cat "$work/sweep-again.log"; exit 1; }
    step_of "$work/sweep-again.log"
}
off1=$(sweep_again -Dcellar.wal-summaries=off); on1=$(sweep_again ""); off2=$(sweep_again -Dcellar.wal-summaries=off); on2=$(sweep_again "")
summaries=$(find "$work/repo/main/wal" -name '*.summary' | wc -l)
summary_bytes=$(find "$work/repo/main/wal" -name '*.summary' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
echo
printf '%-46s %8s %8s\n' "wal-sweep.sweep step" "run 1" "run 2"
printf '%-46s %8s %8s\n' "  WAL summaries off" "$off1" "$off2"
printf '%-46s %8s %8s\n' "  WAL summaries on" "$on1" "$on2"
echo "summaries off -> on: $(awk -v a="$off1" -v b="$off2" -v c="$on1" -v d="$on2" 'BEGIN { printf "%+.0f%%", 100 * ((c + d) / (a + b) - 1) }') step time"
echo "summaries: $summaries files, $summary_bytes bytes, $(awk -v b="$summary_bytes" -v n="$summaries" 'BEGIN { printf "%.0f", n ? b / n : 0 }') bytes per segment; $(grep -o 'WAL summaries: [^.]*' "$work/sweep-again.log" | head -1)"
