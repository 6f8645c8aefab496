#!/usr/bin/env bash
# Restore benchmark: `cellar recover` next to extracting a pg_basebackup tar of the same data.
#
#   mvn -B -DskipTests package && src/bench/restore-benchmark.sh [SCALE]     (default scale 50)
#
# Creates a throwaway cluster (initdb with data checksums, a free loopback port, archiving through
# cellar-wal-archive), loads pgbench at SCALE, takes a full Cellar backup (zstd:3) and archives its
# WAL, takes pg_basebackup -Ft -X none (plain and server-zstd), then measures, each as wall seconds
# including process start (the JVM's for Cellar), RUNS times (default 3), into empty directories:
#   1. cellar recover main latest DEST --target-immediate   (every block and file checksum verified,
#      every file synced, WAL staged, backup_manifest written)
#   2. tar -xf base.tar                                      (no verification, no sync)
#   3. tar -xf base.tar.zst (zstd -d)                         (no verification, no sync)
#   4. cellar recover ... --delta over the unchanged result of 1 (reads and compares every block)
# and prints the median of each with MiB/s. With pgBackRest installed (PGBACKREST=off skips it), it also takes a
# pgBackRest full of the same data (the configuration of backup-benchmark.sh) and times `pgbackrest restore
# --type=immediate` into an empty directory and `pgbackrest restore --delta` over its unchanged result. It stops exactly the cluster it started (pg_ctl -D its
# data directory) and deletes its directory (KEEP_WORK=1 keeps it, to look at or profile). Runs as root too (the server then runs as 'postgres').
set -euo pipefail

scale=${1:-50}
runs=${RUNS:-3}
command -v zstd >/dev/null || { echo "missing zstd (apt-get install zstd)" >&2; exit 2; }
. "$(dirname "$0")/bench-cluster.sh" restore-bench pgbench pg_basebackup psql
bench_start_cluster "max_wal_senders = 4
shared_buffers = 256MB"
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "Loading pgbench scale $scale on port $port ..."
"$bin/pgbench" -i -q -s "$scale" -h "$work" -p "$port" -U postgres postgres >/dev/null 2>&1
psql -c "VACUUM ANALYZE" -c "CHECKPOINT"
data_bytes=$(du -sb --exclude=pg_wal "$work/data" | cut -f1)

cellar backup main --full --wait >"$work/backup.log" 2>&1 || { cat "$work/backup.log"; exit 1; }
cellar archive-wal main >"$work/sweep.log" 2>&1 || { cat "$work/sweep.log"; exit 1; }
if [ -n "$pgbr" ]; then
    pgbr_setup
    pgbr_run backup --type=full >"$work/pgbr-backup.log" 2>&1 || { cat "$work/pgbr-backup.log"; exit 1; }
fi
"$bin/pg_basebackup" -h "$work" -p "$port" -U postgres -D "$work/tar" -Ft -X none -c fast --no-manifest
"$bin/pg_basebackup" -h "$work" -p "$port" -U postgres -D "$work/tarzst" -Ft -X none -c fast --no-manifest --compress=server-zstd
sync

rows=()
row() { rows+=("$(printf '%-52s %8s %8s' "$1" "$2" "$(rate "$data_bytes" "$2")")"); }
measure() { # label, command...
    local label=$1; shift
    local times=()
    for i in $(seq "$runs"); do
        rm -rf "$work/dest"; sync
        local t0; t0=$(now)
        "$@" >"$work/last.log" 2>&1 || { cat "$work/last.log"; exit 1; }
        times+=("$(secs "$t0" "$(now)")")
    done
    row "$label" "$(median "${times[@]}")"
    echo "  $label: ${times[*]}"
}
tar_plain() { mkdir -p "$work/dest" && tar -xf "$work/tar/base.tar" -C "$work/dest"; }
tar_zstd() { mkdir -p "$work/dest" && zstd -dc "$work/tarzst/base.tar.zst" | tar -xf - -C "$work/dest"; }
recover() { cellar recover main latest "$work/dest" --target-immediate; }
# pgBackRest restores as the cluster's OS user, into a directory it owns.
pgbr_restore() {
    mkdir -p "$work/dest" && chmod 700 "$work/dest"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$work/dest"; fi
    pgbr_run --pg1-path="$work/dest" restore --type=immediate --target-action=promote "$@"
}

measure "cellar recover --target-immediate (zstd:3)" recover
measure "tar -xf (pg_basebackup -Ft, plain)" tar_plain
measure "zstd -d | tar -xf (pg_basebackup --compress=server-zstd)" tar_zstd
if [ -n "$pgbr" ]; then measure "pgbackrest restore --type=immediate (zstd:3)" pgbr_restore; fi
# --delta over an unchanged restore: restore once, then time the delta runs over it.
rm -rf "$work/dest"; recover >/dev/null 2>&1
times=()
for i in $(seq "$runs"); do
    sync; t0=$(now)
    cellar recover main latest "$work/dest" --target-immediate --delta >"$work/last.log" 2>&1 || { cat "$work/last.log"; exit 1; }
    times+=("$(secs "$t0" "$(now)")")
done
row "cellar recover --delta over an unchanged restore" "$(median "${times[@]}")"
echo "  delta: ${times[*]}"
if [ -n "$pgbr" ]; then
    rm -rf "$work/dest"; pgbr_restore >"$work/last.log" 2>&1 || { cat "$work/last.log"; exit 1; }
    times=()
    for i in $(seq "$runs"); do
        sync; t0=$(now)
        pgbr_restore --delta >"$work/last.log" 2>&1 || { cat "$work/last.log"; exit 1; }
        times+=("$(secs "$t0" "$(now)")")
    done
    row "pgbackrest restore --delta over an unchanged restore" "$(median "${times[@]}")"
    echo "  pgBackRest delta: ${times[*]}"
fi

echo
echo "pgbench scale $scale: data directory without pg_wal $(mb "$data_bytes") MiB; $(nproc) cores; median of $runs runs"
printf '%-52s %8s %8s\n' "what" "seconds" "MiB/s"
printf '%s\n' "${rows[@]}"
