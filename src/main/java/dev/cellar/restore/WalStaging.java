package dev.cellar.restore;

import dev.cellar.postgres.WalSegmentName;
import dev.cellar.wal.WalArchive;
import dev.cellar.wal.WalFileName;
import dev.cellar.wal.WalRecordReader;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Stages the WAL a restore needs, decompressed and verified (zstd's content checksum), in
 * parallel, under {@code DEST/cellar_wal/}, where the restored cluster's {@code restore_command}
 * copies it from. A segment the plan needs and the archive does not hold fails the staging naming
 * it. For a transaction-id or restore-point target, the staged WAL is searched for it, and a target
 * that is not there is refused: PostgreSQL would replay everything and stop with an error.
 */
public final class WalStaging {

    public static final String DIRECTORY = "cellar_wal";

    private final WalArchive archive;
    private final int pgMajor;
    private final int parallel;

    public WalStaging(WalArchive archive, int pgMajor, int parallel) {
        this.archive = archive;
        this.pgMajor = pgMajor;
        this.parallel = Math.max(1, parallel);
    }

    /** Stages the plan's WAL into {@code dest/cellar_wal}; returns what was staged (for the backup_manifest). */
    public List<PgBackupManifest.FileRecord> stage(RestorePlan plan, Path dest) throws IOException {
        return stage(plan, dest, (filesDone, filesTotal, bytesDone, bytesTotal) -> { });
    }

    /**
     * As {@link #stage(RestorePlan, Path)}, telling {@code progress} about once a second how many files are staged and
     * their bytes (of a total counting each segment at the segment size). What it throws (a stop request) ends the
     * staging: the workers are interrupted and waited for, and the files already staged stay.
     */
    public List<PgBackupManifest.FileRecord> stage(RestorePlan plan, Path dest, DataDirectoryRestore.Progress progress) throws IOException {
        Path dir = dest.resolve(DIRECTORY);
        if (Files.exists(dir)) {
            DataDirectoryRestore.deleteTree(dir);
        }
        Files.createDirectory(dir);
        Files.setPosixFilePermissions(dir, DataDirectoryRestore.permissions(0700));
        List<WalFileName> files = new ArrayList<>();
        for (String h : plan.historyFiles()) {
            files.add(WalFileName.parse(h).orElseThrow());
        }
        files.addAll(plan.segments());
        AtomicBoolean found = new AtomicBoolean(false);
        RecoveryTarget target = plan.target();
        boolean search = target instanceof RecoveryTarget.Xid || target instanceof RecoveryTarget.Name;
        ExecutorService pool = Executors.newFixedThreadPool(parallel, r -> {
            Thread t = new Thread(r, "cellar-stage-wal");
            t.setDaemon(true);
            return t;
        });
        List<PgBackupManifest.FileRecord> staged = new ArrayList<>();
        java.util.concurrent.atomic.AtomicInteger filesStaged = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicLong bytesStaged = new java.util.concurrent.atomic.AtomicLong();
        try {
            List<Future<PgBackupManifest.FileRecord>> futures = new ArrayList<>();
            for (WalFileName f : files) {
                futures.add(pool.submit(() -> {
                    byte[] content;
                    try {
                        content = archive.read(f);
                    } catch (java.nio.file.NoSuchFileException e) {
                        throw new RestoreRefusedException("WAL file " + f.name() + " is not in the archive, and the restore needs it");
                    }
                    if (search && f.kind() == WalFileName.Kind.SEGMENT && !found.get()) {
                        for (WalRecordReader.Record r : WalRecordReader.read(content,
                                WalSegmentName.parse(f.name()).startLsn(plan.walSegmentSize()), pgMajor)) {
                            if ((target instanceof RecoveryTarget.Xid x && r.isTransactionEnd() && r.xid() == x.xid())
                                    || (target instanceof RecoveryTarget.Name n && r.isRestorePoint() && r.restorePointName().equals(n.name()))) {
                                found.set(true);
                            }
                        }
                    }
                    Path tmp = dir.resolve(f.name() + DataDirectoryRestore.TEMP_SUFFIX);
                    Files.write(tmp, content);
                    Files.setPosixFilePermissions(tmp, DataDirectoryRestore.permissions(0600));
                    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                        ch.force(false);
                    }
                    Path target1 = dir.resolve(f.name());
                    Files.move(tmp, target1, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                    filesStaged.incrementAndGet();
                    bytesStaged.addAndGet(content.length);
                    return new PgBackupManifest.FileRecord(DIRECTORY + "/" + f.name(), content.length,
                            Files.getLastModifiedTime(target1).toMillis(), PgBackupManifest.sha256(content));
                }));
            }
            long bytesTotal = (long) plan.segments().size() * plan.walSegmentSize();
            staged.addAll(dev.cellar.repository.ParallelWork.awaitAll(futures,
                    () -> progress.update(filesStaged.get(), files.size(), Math.min(bytesStaged.get(), bytesTotal), bytesTotal)));
            progress.finished(staged.size(), files.size(), bytesStaged.get(), Math.max(bytesStaged.get(), bytesTotal));
        } finally {
            dev.cellar.repository.ParallelWork.stop(pool, 60); // nothing writes into DEST once this returns
        }
        if (search && !found.get()) {
            String what = target instanceof RecoveryTarget.Xid x ? "no commit or abort of transaction " + x.xid()
                    : "no restore point named '" + ((RecoveryTarget.Name) target).name() + "'";
            throw new RestoreRefusedException("the target cannot be reached: " + what + " in the archived WAL from the backup's start ("
                    + plan.segments().get(0).name() + ") to " + plan.segments().get(plan.segments().size() - 1).name()
                    + "; recovery would replay it all and fail. Check the target, or archive more WAL");
        }
        staged.sort(Comparator.comparing(PgBackupManifest.FileRecord::path));
        return staged;
    }
}
