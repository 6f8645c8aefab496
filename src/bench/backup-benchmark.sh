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
#   6. the same localized workload on another range, then an incremental that compares blocks
#      (-Dcellar.wal-derived-incremental=off): what the WAL-derived one saves
# Before each incremental, `cellar archive-wal` sweeps the spool (untimed; `cellar serve` sweeps every
# minute), so the WAL summaries the incremental merges are mostly written already; its time and the
# summaries' size are printed too.
# and prints MB/s and the bytes each adds to its target.
#
# pgBackRest, when installed (apt-get install pgbackrest; PGBACKREST=off skips it): after each of Cellar's backups
# in steps 1, 4 and 5, the same backup of the same cluster state by pgBackRest (zstd level 3, process-max 2, block
# incremental with bundles, page checksums), timed the same way, with the bytes it adds to its own repository.
#
# VIA_SERVE=1: the same, with `cellar serve --no-web` running (cellar.serve.accept-commands on, no schedules), so
# each `cellar backup` command hands its job to serve's JVM (design 2.2) and pays only its own client's start.
# serve's first backup (nothing compiled yet) is an extra full, timed and printed first; step 6 runs with --local
# (its -D option would make serve refuse it anyway).
#
# It stops exactly the cluster it started
# (pg_ctl -D its data directory) and deletes its directory. Runs as root too (the server then runs
# as the 'postgres' OS user). Needs PostgreSQL server and client binaries (pgbench, pg_basebackup).
set -euo pipefail

scale=${1:-50}
workload_seconds=${WORKLOAD_SECONDS:-30}
. "$(dirname "$0")/bench-cluster.sh" bench pgbench pg_basebackup psql
# autovacuum off: a vacuum run between two backups would land in whichever incremental follows it (and between
# Cellar's and pgBackRest's backups of the same state, in one tool's incremental only).
bench_start_cluster "max_wal_senders = 4
shared_buffers = 256MB
autovacuum = off"
via_serve=${VIA_SERVE:-}
if [ -n "$via_serve" ]; then
    cat >> "$work/cellar.yaml" <<EOF
      schedules:
        base-backup: "off"
        wal-sweep: "off"
        verify-restore: "off"
        retention-prune: "off"
  serve:
    accept-commands: true
EOF
fi
repo_bytes() { du -sb "$work/repo" | cut -f1; }

# pgbr_backup TYPE LABEL times one pgBackRest backup (bench-cluster.sh's pgbr_setup first).
pgbr_bytes() { du -sb "$work/pgbr/repo/backup" | cut -f1; }
pgbr_full_s=; pgbr_full_added=; pgbr_n=0
pgbr_backup() {
    local type=$1 label=$2 before t0 t1 s added log
    pgbr_n=$((pgbr_n + 1)); log=$work/pgbr-$pgbr_n-$type.log
    before=$(pgbr_bytes); t0=$(now)
    pgbr_run backup --type="$type" >"$log" 2>&1 || { cat "$log"; exit 1; }
    t1=$(now); s=$(secs "$t0" "$t1"); added=$(( $(pgbr_bytes) - before ))
    if [ "$type" = full ]; then pgbr_full_s=$s; pgbr_full_added=$added; fi
    row "  pgBackRest: $label" "$s" "$(rate "$data_bytes" "$s")" "$(mb "$added")" \
        "$(awk -v a="$added" -v f="$pgbr_full_added" 'BEGIN { printf "%.1f%%", 100 * a / f }')" "$( [ "$type" = full ] || echo "block incremental")"
    pgbr_last_s=$s; pgbr_last_added=$added
}

runtime=$(bench_runtime)   # before the first backup, which may record the start-up cache (Java 25)
echo "Loading pgbench scale $scale on port $port ..."
"$bin/pgbench" -i -q -s "$scale" -h "$work" -p "$port" -U postgres postgres >/dev/null 2>&1
psql -c "VACUUM ANALYZE" -c "CHECKPOINT"
sleep 1.1
db_bytes=$(psql -At -c "SELECT sum(pg_database_size(oid)) FROM pg_database")
data_bytes=$(du -sb --exclude=pg_wal "$work/data" | cut -f1)

rows=()
row() { rows+=("$(printf '%-50s %8s %8s %10s %10s  %s' "$1" "$2" "$3" "$4" "$5" "${6:-}")"); }
# How an incremental found its changes, from its log (the job's exit message).
method() { grep -o 'incremental from the WAL summaries\|incremental by block comparison' "$1" | head -1 | sed 's/incremental from the WAL summaries/wal-summaries/; s/incremental by block comparison/block-compare/'; }
sweep() {
    local t0 t1; t0=$(now)
    cellar archive-wal main >"$work/sweep.log" 2>&1 || { cat "$work/sweep.log"; exit 1; }
    t1=$(now); sweeps+=("$1: archive-wal $(secs "$t0" "$t1") s")
}
sweeps=()

if [ -n "$via_serve" ]; then
    bench_start_serve
    for _ in $(seq 1 300); do grep -q "Runs 'cellar backup' and 'cellar archive-wal' commands" "$work/serve.log" && break; sleep 0.1; done
    grep -q "Runs 'cellar backup' and 'cellar archive-wal' commands" "$work/serve.log" || { echo "serve did not start:"; cat "$work/serve.log"; exit 1; }
    before=$(repo_bytes); t0=$(now)
    cellar backup main --full >"$work/full0.log" 2>&1 || { cat "$work/full0.log"; exit 1; }
    t1=$(now); s=$(secs "$t0" "$t1"); added=$(( $(repo_bytes) - before ))
    grep -q "ServeCommandSocket - Running" "$work/full0.log" || { echo "the backup did not run in serve:"; cat "$work/full0.log"; exit 1; }
    row "cellar backup --full, serve's first job" "$s" "$(rate "$data_bytes" "$s")" "$(mb "$added")" "-"
fi

# 1. Cellar full
before=$(repo_bytes); t0=$(now)
cellar backup main --full >"$work/full.log" 2>&1 || { cat "$work/full.log"; exit 1; }
t1=$(now); full_s=$(secs "$t0" "$t1"); full_added=$(( $(repo_bytes) - before ))
row "cellar backup --full (zstd:3)" "$full_s" "$(rate "$data_bytes" "$full_s")" "$(mb "$full_added")" "100%"
if [ -n "$pgbr" ]; then pgbr_setup; pgbr_backup full "backup --type=full (zstd:3)"; fi

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
sweep "after pgbench -T $workload_seconds"
before=$(repo_bytes); t0=$(now)
cellar backup main >"$work/incr1.log" 2>&1 || { cat "$work/incr1.log"; exit 1; }
t1=$(now); s=$(secs "$t0" "$t1"); added=$(( $(repo_bytes) - before ))
row "incremental after pgbench -T $workload_seconds" "$s" "$(rate "$data_bytes" "$s")" "$(mb "$added")" \
    "$(awk -v a="$added" -v f="$full_added" 'BEGIN { printf "%.1f%%", 100 * a / f }')" "$(method "$work/incr1.log")"
if [ -n "$pgbr" ]; then pgbr_backup incr "the same (--type=incr)"; fi

# 5. localized workload: 1% of accounts in one contiguous range, 1% rows appended to history
accounts=$((scale * 100000))
localized() { bench_localized_workload "$scale" "$1"; }
localized $((accounts / 2))
sweep "after the localized workload"
before=$(repo_bytes); t0=$(now)
cellar backup main >"$work/incr2.log" 2>&1 || { cat "$work/incr2.log"; exit 1; }
t1=$(now); s=$(secs "$t0" "$t1"); added=$(( $(repo_bytes) - before ))
row "incremental after 1% contiguous + appends" "$s" "$(rate "$data_bytes" "$s")" "$(mb "$added")" \
    "$(awk -v a="$added" -v f="$full_added" 'BEGIN { printf "%.1f%%", 100 * a / f }')" "$(method "$work/incr2.log")"
loc_time_pct=$(awk -v a="$s" -v f="$full_s" 'BEGIN { printf "%.0f%%", 100 * a / f }')
loc_bytes_pct=$(awk -v a="$added" -v f="$full_added" 'BEGIN { printf "%.1f%%", 100 * a / f }')
loc_s=$s; loc_added=$added
if [ -n "$pgbr" ]; then pgbr_backup incr "the same (--type=incr)"; fi

# 6. the same workload elsewhere, then an incremental comparing blocks
localized $((accounts / 4))
sweep "after the second localized workload"
before=$(repo_bytes); t0=$(now)
CELLAR_JAVA_OPTS="${CELLAR_JAVA_OPTS:-} -Dcellar.wal-derived-incremental=off" cellar backup main ${via_serve:+--local} >"$work/incr3.log" 2>&1 \
    || { cat "$work/incr3.log"; exit 1; }
t1=$(now); s3=$(secs "$t0" "$t1"); added=$(( $(repo_bytes) - before ))
row "same, comparing blocks (WAL-derived off)" "$s3" "$(rate "$data_bytes" "$s3")" "$(mb "$added")" \
    "$(awk -v a="$added" -v f="$full_added" 'BEGIN { printf "%.1f%%", 100 * a / f }')" "$(method "$work/incr3.log")"
summaries=$(find "$work/repo" -name '*.summary' | wc -l)
summary_bytes=$(find "$work/repo" -name '*.summary' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')

echo
echo "$runtime"
if [ -n "$via_serve" ]; then
    echo "cellar backup commands run by cellar serve (PID $serve_pid): $(grep -c 'ServeCommandSocket - Running' "$work/serve.log") (all but the comparing-blocks one, --local)"
fi
echo "pgbench scale $scale: database $(mb "$db_bytes") MiB, data directory without pg_wal $(mb "$data_bytes") MiB; $(nproc) cores"
printf '%-50s %8s %8s %10s %10s  %s\n' "what" "seconds" "MiB/s" "added MiB" "vs full" "changes found by"
printf '%s\n' "${rows[@]}"
echo "localized incremental vs full: time $loc_time_pct, bytes $loc_bytes_pct"
if [ -n "$pgbr" ]; then
    pct() { awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { printf "%." d "f%%", 100 * a / b }'; }
    ratio_of() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
    echo "$("$pgbr" version): localized incremental vs its full: time $(pct "$pgbr_last_s" "$pgbr_full_s" 0), bytes $(pct "$pgbr_last_added" "$pgbr_full_added" 1)"
    echo "Cellar / pgBackRest: full time $(ratio_of "$full_s" "$pgbr_full_s"), bytes $(ratio_of "$full_added" "$pgbr_full_added");" \
         "localized incremental time $(ratio_of "$loc_s" "$pgbr_last_s"), bytes $loc_added / $pgbr_last_added = $(ratio_of "$loc_added" "$pgbr_last_added")"
fi
echo "WAL summaries: $summaries, $(awk -v b="$summary_bytes" -v n="$summaries" 'BEGIN { if (n) printf "%.1f KiB each", b / n / 1024 }')"
printf '%s\n' "${sweeps[@]}"
grep -ho 'incremental from the WAL summaries: [^;]*' "$work/incr2.log" | head -1 || true
if [ -n "${BENCH_LOGS:-}" ]; then
    mkdir -p "$BENCH_LOGS" && cp "$work"/*.log "$BENCH_LOGS"/ && echo "logs kept in $BENCH_LOGS"
fi
