package dev.cellar.backup;

import dev.cellar.config.ServerSettings;
import dev.cellar.postgres.BackupSession;
import dev.cellar.postgres.Lsn;
import dev.cellar.postgres.PageChecksum;
import dev.cellar.postgres.PostgresConnector;
import dev.cellar.postgres.WalSegmentName;
import dev.cellar.repository.BackupCatalog;
import dev.cellar.repository.BackupInfo;
import dev.cellar.repository.BundleIndex;
import dev.cellar.repository.BundleWriter;
import dev.cellar.repository.Manifest;
import dev.cellar.repository.ManifestEntry;
import dev.cellar.repository.RepositoryLayout;
import dev.cellar.repository.ServerIdentity;
import dev.cellar.storage.Storage;
import dev.cellar.wal.ChangedBlockMapReader;
import dev.cellar.wal.WalArchive;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A base backup of one server, in the phases the base-backup job runs as steps: {@link #plan},
 * {@link #startSession}, {@link #copy}, stop (on the session), {@link #waitForWal} and
 * {@link #commit}. Nothing here knows Spring Batch; the job adapts it.
 *
 * <p>Write order (docs/design.md, repository format): bundles, then the manifest, then
 * backup.json, the commit point. A backup that fails before its commit leaves only bundles that
 * no committed backup references; a restart of the same backup ID reuses them.
 */
public final class BaseBackup {

    private final Storage storage;
    private final ServerSettings server;
    private final PostgresConnector connector;

    public BaseBackup(Storage storage, ServerSettings server, PostgresConnector connector) {
        this.storage = storage;
        this.server = server;
        this.connector = connector;
    }

    public String serverName() {
        return server.name();
    }

    /** A refusal with a message for the operator (identity mismatch, no data directory...). */
    public static final class BackupRefusedException extends RuntimeException {
        public BackupRefusedException(String message) {
            super(message);
        }
    }

    /** What preflight decided. */
    public record Plan(String backupId, String type, String parentId, BackupSession.ClusterInfo cluster) {
    }

    /** Checks the cluster against the repository (recording its identity the first time) and picks the parent. */
    public Plan plan(String backupId, boolean forceFull, String recordedParent) throws IOException, SQLException {
        Path pgdata = server.pgdataPath().orElseThrow(() -> new BackupRefusedException(
                "server " + server.name() + " has no pgdata configured; base backups read the data directory directly"));
        if (!Files.isReadable(pgdata.resolve("PG_VERSION"))) {
            throw new BackupRefusedException(pgdata + " is not a readable PostgreSQL data directory");
        }
        BackupSession.ClusterInfo cluster;
        try (Connection c = connector.connect(server.conninfo(), server.passfilePath())) {
            cluster = BackupSession.clusterInfo(c);
        }
        ServerIdentity live = new ServerIdentity(cluster.systemIdentifier(), cluster.major(), cluster.walSegmentSize());
        Optional<ServerIdentity> recorded = ServerIdentity.read(storage, server.name());
        if (recorded.isEmpty()) {
            live.write(storage, server.name());
        } else {
            Optional<String> mismatch = recorded.get().mismatch(live);
            if (mismatch.isPresent()) {
                throw new BackupRefusedException("refusing to back up server " + server.name() + ": " + mismatch.get()
                        + "; this repository holds another cluster's backups");
            }
        }
        String parent = recordedParent;
        if (parent == null && !forceFull) {
            parent = new BackupCatalog(storage, server.name()).latest().map(BackupInfo::id).orElse(null);
        }
        return new Plan(backupId, parent == null ? BackupInfo.FULL : BackupInfo.INCREMENTAL, parent, cluster);
    }

    /** Opens the connection that holds the backup session and starts it (fast checkpoint). */
    public BackupSession startSession(Plan plan) throws SQLException {
        Connection c = connector.connect(server.conninfo(), server.passfilePath());
        try {
            return BackupSession.start(c, "cellar " + server.name() + " " + plan.backupId(), true);
        } catch (SQLException e) {
            c.close();
            throw e;
        }
    }

    /** Progress of the copy, reported while it runs (and may end it by throwing: a stop request). */
    public interface Progress {
        void update(long filesDone, long filesTotal, long bytesDone, long bytesTotal);

        /**
         * As {@link #update(long, long, long, long)}, with the stored bytes the workers hold and have not written to the
         * repository yet: once every byte is read, what the copy still waits for (a slow or throttled repository).
         */
        default void update(long filesDone, long filesTotal, long bytesDone, long bytesTotal, long bytesUnpublished) {
            update(filesDone, filesTotal, bytesDone, bytesTotal);
        }

        /** The last report, once every file is copied: the copy is done and must not be given up. */
        default void finished(long filesDone, long filesTotal, long bytesDone, long bytesTotal) {
            update(filesDone, filesTotal, bytesDone, bytesTotal);
        }

        /**
         * Before the files, while an incremental's WAL map takes more than a second: segments whose summary was read or
         * computed, of all since the parent's start. May throw to give the copy up, as {@link #update} may.
         */
        default void walSummaries(int segmentsDone, int segmentsTotal) {
        }
    }

    /** How an incremental finds what changed since its parent (docs/design.md 5.6). */
    public enum IncrementalMethod {
        /** Reads only the blocks the WAL summaries since the parent's start name (WAL-derived). */
        WAL_SUMMARIES("wal-summaries"),
        /** Reads every file whose size or modification time changed and compares its blocks with the parent's. */
        BLOCK_COMPARE("block-compare");

        public final String id;

        IncrementalMethod(String id) {
            this.id = id;
        }

        public static IncrementalMethod of(String id) {
            for (IncrementalMethod m : values()) {
                if (m.id.equals(id)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown incremental method " + id);
        }
    }

    /**
     * What the copy produced.
     *
     * @param method     for an incremental, how it found the changes (null for a full backup)
     * @param methodNote for a WAL-derived incremental the range it read; for a block-compare one why the WAL was not used
     * @param bytesUnread bytes taken from the parent without reading them
     */
    public record CopyResult(List<ManifestEntry> entries, long bytesRead, long bytesStored, long bytesReused, long files,
                             long pageFailures, long bytesReusedFromFailedAttempt, IncrementalMethod method, String methodNote,
                             long bytesUnread, int timeline) {
    }

    /** Set {@code -Dcellar.wal-derived-incremental=off} to compare blocks in every incremental (benchmarks, comparisons). */
    public static final String WAL_DERIVED_PROPERTY = "cellar.wal-derived-incremental";

    private IncrementalMethod preferred = "off".equals(System.getProperty(WAL_DERIVED_PROPERTY))
            ? IncrementalMethod.BLOCK_COMPARE : IncrementalMethod.WAL_SUMMARIES;

    /** The method an incremental tries first; WAL_SUMMARIES falls back to BLOCK_COMPARE when the WAL leaves a doubt. */
    public BaseBackup preferring(IncrementalMethod method) {
        this.preferred = method;
        return this;
    }

    /**
     * The changes since the parent's start, when the WAL vouches for them; otherwise why not. Null map for a full
     * backup or when block comparison is preferred.
     */
    ChangedBlockMapReader.Outcome changesSince(BackupInfo parent, Lsn startLsn, int startTimeline, BackupSession.ClusterInfo cluster,
                                               ChangedBlockMapReader.Progress progress) {
        if (parent == null) {
            return null;
        }
        if (preferred == IncrementalMethod.BLOCK_COMPARE) {
            return new ChangedBlockMapReader.Outcome(null, "block comparison was asked for");
        }
        if (parent.pgMajor() != cluster.major()) {
            return new ChangedBlockMapReader.Outcome(null, "the parent was taken of PostgreSQL " + parent.pgMajor());
        }
        if (cluster.blockSize() != RelationFile.BLOCK || cluster.relationSegmentBlocks() != RelationFile.BLOCKS_PER_SEGMENT) {
            return new ChangedBlockMapReader.Outcome(null, "PostgreSQL was built with block_size " + cluster.blockSize() + " and "
                    + cluster.relationSegmentBlocks() + " blocks per relation segment file; WAL-derived incrementals need 8192 and 131072");
        }
        Path pgdata = server.pgdataPath().orElseThrow();
        WalArchive archive = new WalArchive(storage, server.name(), 3);
        ChangedBlockMapReader reader = new ChangedBlockMapReader(archive, server.walSpool(), pgdata.resolve("pg_wal"),
                cluster.major(), cluster.walSegmentSize());
        return reader.read(parent.timeline(), Lsn.parse(parent.startLsn()), Lsn.parse(parent.stopLsn()), startTimeline, startLsn, progress);
    }

    /**
     * Copies every file of the data directory with {@code server.parallel} workers, largest first,
     * referencing blocks the parent or a failed attempt of this backup already stored.
     *
     * @param attempt unique per attempt (e.g. the job execution id), so bundle names never collide
     */
    public CopyResult copy(Plan plan, Lsn startLsn, int startTimeline, String attempt, Progress progress) throws IOException, InterruptedException {
        Path pgdata = server.pgdataPath().orElseThrow();
        List<DataDirectoryScanner.SourceFile> all = DataDirectoryScanner.scan(pgdata);
        List<DataDirectoryScanner.SourceFile> files = DataDirectoryScanner.filesLargestFirst(all);
        long bytesTotal = files.stream().mapToLong(DataDirectoryScanner.SourceFile::size).sum();

        Map<String, ManifestEntry> parent = Map.of();
        BackupInfo parentInfo = null;
        if (plan.parentId() != null) {
            parentInfo = BackupInfo.read(storage, server.name(), plan.parentId())
                    .orElseThrow(() -> new BackupRefusedException("parent backup " + plan.parentId() + " is gone from the repository"));
            parent = parentInfo.manifest(storage).byPath();
        }
        UnchangedFileRule unchanged = new UnchangedFileRule(parentInfo, startTimeline, java.time.Instant.now());
        ChangedBlockMapReader.Outcome changes = changesSince(parentInfo, startLsn, startTimeline, plan.cluster(), progress::walSummaries);
        ChangedBlockReads walReads = changes != null && changes.hasMap() ? new ChangedBlockReads(changes.map()) : null;
        final Map<String, ManifestEntry> parentEntries = parent;
        AtomicLong bytesUnread = new AtomicLong();
        AtomicLong filesUnread = new AtomicLong();
        String bundlesDir = bundlesDir(plan.backupId());
        BundleIndex previousAttempts = BundleIndex.read(storage, server.name(), bundlesDir);
        BlockSource source = new BlockSource(parent, previousAttempts);
        PageVerifier verifier = plan.cluster().dataChecksums() ? pageVerifier(startLsn) : null;

        ConcurrentLinkedQueue<DataDirectoryScanner.SourceFile> queue = new ConcurrentLinkedQueue<>(files);
        List<ManifestEntry> entries = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicLong filesDone = new AtomicLong();
        // Bytes of the files gone through: counted by the readers as they read (a large file shows progress too),
        // whole for files taken unread, and corrected to the scanned size when a file is done.
        LongAdder bytesDone = new LongAdder();
        int workers = Math.max(1, Math.min(server.parallel(), files.size()));
        ExecutorService pool = Executors.newFixedThreadPool(workers, r -> {
            Thread t = new Thread(r, "cellar-copy");
            t.setDaemon(true);
            return t;
        });
        // Readers hash in file order; compression of their frames runs beside them on these threads.
        FrameCompressionPool compressors = new FrameCompressionPool(server.compression(), Math.max(1, server.parallel()));
        List<FileBackup> engines = new ArrayList<>();
        List<BundleWriter> writers = new ArrayList<>();
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                BundleWriter writer = new BundleWriter(storage, server.name(), bundlesDir, attempt + "-" + w, BundleWriter.TARGET_SIZE);
                FileBackup engine = new FileBackup(server.compression(), writer, source, verifier, compressors, bytesDone);
                writers.add(writer);
                engines.add(engine);
                futures.add(pool.submit(() -> {
                    DataDirectoryScanner.SourceFile f;
                    while ((f = queue.poll()) != null) {
                        if (Thread.currentThread().isInterrupted()) {
                            throw new InterruptedException("copy interrupted");
                        }
                        ManifestEntry inParent = parentEntries.get(f.path());
                        ChangedBlockReads.Decision d = walReads == null ? ChangedBlockReads.Decision.WHOLE : walReads.decide(f.path(), f.size(), inParent);
                        // The WAL is the stronger witness: a file it says changed is read even when its mtime says not.
                        Optional<ManifestEntry> same = d.kind() == ChangedBlockReads.Kind.UNCHANGED ? Optional.of(withAttributes(inParent, f))
                                : d.kind() == ChangedBlockReads.Kind.WHOLE ? unchanged.reuse(f, inParent) : Optional.empty();
                        if (same.isPresent()) {
                            entries.add(same.get());
                            bytesUnread.addAndGet(f.size());
                            filesUnread.incrementAndGet();
                            bytesDone.add(f.size());
                        } else {
                            long before = engine.stats().bytesRead + engine.stats().bytesUnread;
                            engine.backup(f.absolute(), f.path(), f.relationSegment(), f.mtime(), f.mode(),
                                    d.kind() == ChangedBlockReads.Kind.BLOCKS ? d.unread() : null).ifPresent(entries::add);
                            bytesDone.add(f.size() - (engine.stats().bytesRead + engine.stats().bytesUnread - before));
                        }
                        filesDone.incrementAndGet();
                    }
                    writer.seal();
                    return null;
                }));
            }
            dev.cellar.repository.ParallelWork.awaitAll(futures, () -> progress.update(filesDone.get(), files.size(),
                    Math.min(bytesDone.sum(), bytesTotal), bytesTotal, writers.stream().mapToLong(BundleWriter::bytesUnpublished).sum()));
        } finally {
            // A failure or a stop request ends the copy: no worker may still write to the repository once this returns
            // (the job then releases its lock).
            dev.cellar.repository.ParallelWork.stop(pool, 60);
            compressors.close();
        }
        progress.finished(filesDone.get(), files.size(), bytesDone.sum(), bytesTotal);
        for (DataDirectoryScanner.SourceFile f : all) {
            if (f.type() == ManifestEntry.Type.DIRECTORY) {
                entries.add(ManifestEntry.directory(f.path(), f.mtime(), f.mode()));
            } else if (f.type() == ManifestEntry.Type.LINK) {
                entries.add(ManifestEntry.link(f.path(), f.linkTarget(), f.mtime()));
            }
        }
        List<ManifestEntry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparing(ManifestEntry::path));
        long read = 0, stored = 0, reused = 0, nfiles = 0, partlyUnread = 0;
        for (FileBackup e : engines) {
            read += e.stats().bytesRead;
            stored += e.stats().bytesStored;
            reused += e.stats().bytesReferenced;
            nfiles += e.stats().files;
            partlyUnread += e.stats().bytesUnread;
        }
        reused += bytesUnread.get();
        nfiles += filesUnread.get();
        long pageFailures = sorted.stream().mapToLong(e -> e.pageFailures().size()).sum();
        // Raw bytes this attempt referenced from bundles an earlier, failed attempt of this backup published.
        String ownBundles = bundlesDir(plan.backupId()) + "/";
        String thisAttempt = ownBundles + attempt + "-";
        long fromFailed = 0;
        for (ManifestEntry e : sorted) {
            for (var run : e.runs()) {
                String bundle = run.frame().bundle();
                if (bundle.startsWith(ownBundles) && !bundle.startsWith(thisAttempt)) {
                    for (int b = run.firstBlock(); b < run.endBlock(); b++) {
                        fromFailed += Math.min(e.blockSize(), e.size() - (long) b * e.blockSize());
                    }
                }
            }
        }
        IncrementalMethod method = null;
        String note = null;
        if (changes != null) {
            method = changes.hasMap() ? IncrementalMethod.WAL_SUMMARIES : IncrementalMethod.BLOCK_COMPARE;
            note = changes.hasMap() ? changes.map().toString() : changes.fallbackReason();
        }
        return new CopyResult(List.copyOf(sorted), read, stored, reused, nfiles, pageFailures, fromFailed, method, note,
                bytesUnread.get() + partlyUnread, startTimeline);
    }

    /** The parent's entry of a file the WAL says is unchanged, with the modification time and mode the scan saw. */
    private static ManifestEntry withAttributes(ManifestEntry inParent, DataDirectoryScanner.SourceFile f) {
        return new ManifestEntry(inParent.path(), inParent.type(), inParent.size(), f.mtime(), f.mode(), inParent.sha256(),
                inParent.blockSize(), inParent.blockChecksums(), inParent.runs(), null, inParent.pageFailures());
    }

    /** Pages written after the backup started are skipped: they may be torn, and WAL replay rewrites them. */
    static PageVerifier pageVerifier(Lsn startLsn) {
        return (page, offset, blockNumber) -> {
            long pageLsn = ((long) readIntLE(page, offset) << 32) | (readIntLE(page, offset + 4) & 0xFFFFFFFFL);
            if (Long.compareUnsigned(pageLsn, startLsn.value()) >= 0) {
                return true;
            }
            return PageChecksum.verify(page, offset, blockNumber);
        };
    }

    private static int readIntLE(byte[] b, int o) {
        return (b[o] & 0xFF) | (b[o + 1] & 0xFF) << 8 | (b[o + 2] & 0xFF) << 16 | (b[o + 3] & 0xFF) << 24;
    }

    /**
     * Waits until the WAL segment holding {@code stopLsn} is archived: in the repository or, already
     * durable on Cellar's side, in the spool. {@code everySecond} runs about once a second while it waits (it may
     * throw to end the wait: a stop request).
     */
    public void waitForWal(int timeline, Lsn stopLsn, long walSegmentSize, Duration timeout, Runnable everySecond)
            throws IOException, InterruptedException {
        WalSegmentName segment = WalSegmentName.of(timeline, stopLsn, walSegmentSize);
        Instant deadline = Instant.now().plus(timeout);
        for (int poll = 1; ; poll++) {
            String name = segment.toString();
            if (Files.exists(server.walSpool().resolve(name))) {
                return;
            }
            for (Storage.Entry e : storage.list(RepositoryLayout.walDir(server.name()) + "/" + segment.timelineLog())) {
                if (e.name().startsWith(name)) {
                    return;
                }
            }
            if (Instant.now().isAfter(deadline)) {
                throw new BackupRefusedException("WAL segment " + name + " (stop LSN " + stopLsn + ") was not archived within "
                        + timeout.toSeconds() + "s; check archive_command with 'cellar check " + server.name() + "'");
            }
            if (poll % 5 == 0) {
                everySecond.run(); // after looking for the segment: one that came is not given up for a stop
            }
            Thread.sleep(200);
        }
    }

    /** Writes the manifest, then backup.json: the commit point. */
    public BackupInfo commit(Plan plan, BackupSession.Stop stop, CopyResult copy, Instant startTime, Instant stopTime) throws IOException {
        if (copy.method() == IncrementalMethod.WAL_SUMMARIES && copy.timeline() != stop.timeline()) {
            throw new BackupRefusedException("the backup started on timeline " + stop.timeline() + " (backup_label) but its WAL map followed "
                    + "timeline " + copy.timeline() + "; nothing was committed: run the backup again");
        }
        Manifest manifest = new Manifest(plan.backupId(), copy.entries());
        byte[] bytes = manifest.encode();
        String manifestPath = BackupInfo.manifestPath(server.name(), plan.backupId());
        if (storage.exists(manifestPath)) {
            // A failed commit of this very backup: the manifest is write-once, replace only our own leftover.
            storage.delete(manifestPath);
        }
        storage.write(manifestPath, bytes, Storage.IfExists.FAIL);
        long storedBytes = bundleBytes(plan.backupId()) + bytes.length;
        long sizeBytes = copy.entries().stream().mapToLong(ManifestEntry::size).sum();
        BackupInfo info = new BackupInfo(plan.backupId(), server.name(), plan.type(), plan.parentId(),
                stop.startLsn().toString(), stop.stopLsn().toString(), stop.timeline(),
                WalSegmentName.of(stop.timeline(), stop.startLsn(), plan.cluster().walSegmentSize()).toString(),
                WalSegmentName.of(stop.timeline(), stop.stopLsn(), plan.cluster().walSegmentSize()).toString(),
                startTime, stopTime, "cellar " + server.name() + " " + plan.backupId(), plan.cluster().major(),
                plan.cluster().systemIdentifier(), sizeBytes, storedBytes, copy.files(), copy.pageFailures(),
                server.compression().toString(), sha256(bytes), stop.backupLabel(),
                stop.tablespaceMap() == null || stop.tablespaceMap().isEmpty() ? null : stop.tablespaceMap(),
                copy.method() == null ? null : copy.method().id, copy.methodNote());
        info.write(storage);
        return info;
    }

    /** Bytes of this backup's bundles (all attempts: what the backup added to the repository). */
    public long bundleBytes(String backupId) throws IOException {
        long total = 0;
        for (Storage.Entry e : storage.list(server.name() + "/" + bundlesDir(backupId))) {
            if (!e.directory()) {
                total += e.size();
            }
        }
        return total;
    }

    static String bundlesDir(String backupId) {
        return "backups/" + backupId + "/bundles";
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
