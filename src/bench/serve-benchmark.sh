#!/usr/bin/env bash
# Scheduled backups in `cellar serve`: the jobs' own durations, with no process start.
#
#   mvn -B -DskipTests package && src/bench/serve-benchmark.sh [SCALE]     (default scale 50)
#
# backup-benchmark.sh times `cellar backup` as a command, JVM start included. An operator's hourly
# incremental is fired by `cellar serve` instead, in a JVM that is already running. This script
# starts a throwaway cluster (data checksums, archiving through cellar-wal-archive), loads pgbench
# at SCALE, starts `cellar serve --no-web` with base-backup every 30 s (at :00 and :30) and
# wal-sweep 20 s after each, and lets four backups fire:
#   1. a full (the first job of the process: nothing compiled yet);
#   2. an incremental after the localized workload of backup-benchmark.sh (1% of pgbench_accounts
#      rows in one contiguous aid range updated, 1% rows appended to pgbench_history);
#   then both are deleted (`cellar delete`, between firings), so that
#   3. the next firing is a full again, in a JVM that has run backups before;
#   4. an incremental after the localized workload on another range.
# It prints each job's duration as the job repository records it (`cellar jobs list --json`) and
# how each incremental found its changes. CLI commands run only between firings (their JVMs would
# share the two cores with a running backup). It stops exactly the serve process it started (its
# PID, SIGTERM) and exactly the cluster it started (pg_ctl -D its data directory).
set -euo pipefail

scale=${1:-50}
. "$(dirname "$0")/bench-cluster.sh" servebench pgbench psql
bench_start_cluster "shared_buffers = 256MB"

cat >> "$work/cellar.yaml" <<EOF
      minimum-redundancy: 0
      schedules:
        base-backup: "0/30 * * * * ?"
        wal-sweep: "20/30 * * * * ?"
        verify-restore: "0 0 4 1 1 ? 2099"
        retention-prune: "0 0 4 1 1 ? 2099"
EOF

echo "Loading pgbench scale $scale on port $port ..."
"$bin/pgbench" -i -q -s "$scale" -h "$work" -p "$port" -U postgres postgres >/dev/null 2>&1
psql -c "VACUUM ANALYZE" -c "CHECKPOINT"

accounts=$((scale * 100000))
localized() { bench_localized_workload "$scale" "$1"; }
# Sleeps until SECONDS past the next firing boundary (:00 or :30) after the one being waited for.
boundary=0
next_boundary() { local t; t=$(date +%s); boundary=$(( (t / 30 + 1) * 30 )); }
sleep_until() { local now; now=$(date +%s.%N); sleep "$(awk -v a="$1" -v n="$now" 'BEGIN { d = a - n; print (d > 0 ? d : 0) }')"; }
backups() { cellar list-backups main --json; }
backup_ids() { backups | grep -o '"id" : "[0-9T]*"' | grep -o '[0-9T]\{15\}'; }
count_backups() { backup_ids | wc -l; }

bench_start_serve
next_boundary
if [ $((boundary - $(date +%s))) -lt 8 ]; then boundary=$((boundary + 30)); fi  # give serve time to start
echo "serve started (PID $serve_pid); first firing at $(date -d "@$boundary" +%T)"

# 1. full, first job of the process
sleep_until $((boundary + 8)); localized $((accounts / 2))
sleep_until $((boundary + 25))
[ "$(count_backups)" -ge 1 ] || { echo "no backup after the first firing"; tail -20 "$work/serve.log"; exit 1; }
# 2. incremental
boundary=$((boundary + 30)); sleep_until $((boundary + 10))
[ "$(count_backups)" -ge 2 ] || { echo "no incremental after the second firing"; tail -20 "$work/serve.log"; exit 1; }
for id in $(backup_ids | sort -r); do cellar delete main "$id" >/dev/null; done
# 3. full again, warm
boundary=$((boundary + 30)); sleep_until $((boundary + 8)); localized $((accounts / 4))
# 4. incremental, warm
boundary=$((boundary + 30)); sleep_until $((boundary + 12))
bench_stop_serve

jobs=$(cellar jobs list --json --job base-backup --limit 4)
durations=$(echo "$jobs" | grep -o '"duration" : [0-9.]*' | grep -o '[0-9.]*$' | tac)
messages=$(echo "$jobs" | grep -o '"exitMessage" : "[^"]*"' | sed 's/"exitMessage" : "//; s/"$//' | tac)
statuses=$(echo "$jobs" | grep -o '"status" : "[A-Z]*"' | grep -o '[A-Z]*"$' | tr -d '"' | tac)
[ "$(echo "$durations" | wc -l)" -eq 4 ] || { echo "expected 4 base-backup executions:"; echo "$jobs"; tail -30 "$work/serve.log"; exit 1; }
names=("full, first job of the process" "incremental after 1% contiguous + appends" "full again (after deleting both)" "incremental after 1% contiguous + appends")
echo
echo "pgbench scale $scale, base-backup jobs fired by cellar serve --no-web; $(nproc) cores"
printf '%-46s %8s %10s  %s\n' "what" "seconds" "status" "changes found by"
i=0
while read -r d; do
    m=$(echo "$messages" | sed -n "$((i + 1))p"); s=$(echo "$statuses" | sed -n "$((i + 1))p")
    how=$(echo "$m" | grep -o 'incremental from the WAL summaries\|incremental by block comparison' | sed 's/incremental from the WAL summaries/wal-summaries/; s/incremental by block comparison/block-compare/' || true)
    printf '%-46s %8s %10s  %s\n' "${names[$i]}" "$d" "$s" "$how"
    i=$((i + 1))
done <<< "$durations"
full=$(echo "$durations" | sed -n 3p); incr=$(echo "$durations" | sed -n 4p)
echo "warm incremental vs warm full: $(awk -v a="$incr" -v f="$full" 'BEGIN { printf "%.0f%%", 100 * a / f }')"
echo "$messages" | sed -n 4p | grep -o 'incremental from the WAL summaries: [^;]*' || true
