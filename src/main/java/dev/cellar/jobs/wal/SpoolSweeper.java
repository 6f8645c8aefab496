package dev.cellar.jobs.wal;

import dev.cellar.config.CellarSettings;
import dev.cellar.config.Compression;
import dev.cellar.config.ServerSettings;
import dev.cellar.postgres.BackupSession;
import dev.cellar.postgres.PostgresConnector;
import dev.cellar.repository.RepositoryLock;
import dev.cellar.repository.ServerIdentity;
import dev.cellar.storage.Storage;
import dev.cellar.storage.StorageOpener;
import dev.cellar.wal.WalArchive;
import dev.cellar.wal.WalSweep;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.batch.core.ExitStatus;
import org.springframework.batch.core.listener.StepExecutionListener;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.infrastructure.item.Chunk;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.batch.infrastructure.item.ItemStreamReader;
import org.springframework.batch.infrastructure.item.ItemWriter;

/**
 * The wal-sweep step's reader, writer and listener in one, per step execution: before the step it
 * opens the repository, takes the server's {@code archive} lock and establishes the server's
 * identity (from the repository, or recorded from the server the first time); it reads the spool
 * in WAL order and sweeps each file (docs/design.md 5.7). Its checkpoint is the business position,
 * the last file handled, not a count: archived files leave the spool, so a restart simply finds
 * what is left.
 */
public class SpoolSweeper implements ItemStreamReader<Path>, ItemWriter<Path>, StepExecutionListener {

    private static final Logger log = LoggerFactory.getLogger(SpoolSweeper.class);

    private final CellarSettings settings;
    private final String serverName;
    private Storage storage;
    private RepositoryLock lock;
    private WalSweep sweep;
    private Iterator<Path> pending;
    private String lastHandled;
    private long archived;
    private long bytes;
    private final List<String> problems = new ArrayList<>();
    /** The names this run found in the spool: a segment whose predecessor is among them leaves that one's summary to it. */
    private final java.util.Set<String> runNames = new java.util.HashSet<>();
    private long summariesWritten;
    private final List<String> summariesDeferred = new ArrayList<>();
    private final List<String> summariesUnsafe = new ArrayList<>();
    private final List<String> summaryFailures = new ArrayList<>();
    private java.util.concurrent.ExecutorService workers;

    public SpoolSweeper(CellarSettings settings, String serverName) {
        this.settings = settings;
        this.serverName = serverName;
    }

    private long walSegmentSize;

    @Override
    public void beforeStep(StepExecution stepExecution) {
        ServerSettings server = settings.server(serverName);
        try {
            storage = StorageOpener.open(settings.requireRepository());
            lock = RepositoryLock.acquire(storage, server.name(), "archive", "wal-sweep");
            ServerIdentity identity = identity(server);
            int level = server.compression().algorithm() == Compression.Algorithm.ZSTD ? server.compression().level() : 3;
            sweep = new WalSweep(new WalArchive(storage, server.name(), level), server.walSpool(), identity, summariesOn());
            walSegmentSize = identity.walSegmentSize();
            workers = java.util.concurrent.Executors.newFixedThreadPool(server.parallel(), r -> {
                Thread t = new Thread(r, "cellar-sweep");
                t.setDaemon(true);
                return t;
            });
        } catch (Exception e) {
            release();
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /**
     * WAL summaries are on unless {@code -Dcellar.wal-summaries=off} (for measuring the sweep without them,
     * docs/benchmarks.md; a sweep without summaries leaves them missing, which a backup treats as no information).
     */
    static boolean summariesOn() {
        return !"off".equalsIgnoreCase(System.getProperty("cellar.wal-summaries", "on"));
    }

    /** The repository's record of the server; the first sweep records it from the server itself. */
    private ServerIdentity identity(ServerSettings server) throws Exception {
        Optional<ServerIdentity> recorded = ServerIdentity.read(storage, server.name());
        if (recorded.isPresent()) {
            return recorded.get();
        }
        try (Connection c = PostgresConnector.fromProcess().connect(server.conninfo(), server.passfilePath())) {
            BackupSession.ClusterInfo info = BackupSession.clusterInfo(c);
            ServerIdentity live = new ServerIdentity(info.systemIdentifier(), info.major(), info.walSegmentSize());
            live.write(storage, server.name());
            return live;
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException("the repository has no identity for server " + server.name()
                    + " yet, and the server cannot be reached to record it: " + e.getMessage(), e);
        }
    }

    @Override
    public void open(ExecutionContext ctx) {
        lastHandled = ctx.getString(WalSweepJobConfig.LAST_ARCHIVED, null);
        try {
            List<Path> all = sweep.pending();
            all.forEach(p -> runNames.add(p.getFileName().toString()));
            pending = all.iterator();
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot list the spool: " + e.getMessage(), e);
        }
    }

    @Override
    public Path read() {
        return pending.hasNext() ? pending.next() : null;
    }

    /** Sweeps a chunk's files on {@code parallel} threads (each file is independent), then records them in WAL order. */
    @Override
    public void write(Chunk<? extends Path> chunk) throws Exception {
        List<java.util.concurrent.Future<WalSweep.Outcome>> futures = new ArrayList<>();
        for (Path p : chunk) {
            boolean completePrevious = !runNames.contains(predecessor(p.getFileName().toString()));
            futures.add(workers.submit(() -> sweep.sweep(p, false, completePrevious)));
        }
        Exception failure = null;
        List<WalSweep.Outcome> outcomes = new ArrayList<>();
        for (var f : futures) {
            try {
                outcomes.add(f.get());
            } catch (java.util.concurrent.ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause() instanceof Exception ex ? ex : new IllegalStateException(e.getCause());
                }
            }
        }
        List<dev.cellar.wal.WalFileName> stored = new ArrayList<>();
        for (WalSweep.Outcome o : outcomes) {
            if (!o.isProblem()) {
                dev.cellar.wal.WalFileName.parse(o.name()).ifPresent(stored::add);
            }
        }
        // Recorded once stored (the index never names a file the repository does not hold), and before the
        // spool copies go (a file stored but not recorded when the process dies is found again next time).
        dev.cellar.wal.WalIndex.record(storage, serverName, walSegmentSize, stored);
        for (WalSweep.Outcome o : outcomes) {
            if (!o.isProblem()) {
                java.nio.file.Files.deleteIfExists(sweep.spoolPath(o.name()));
            }
        }
        for (WalSweep.Outcome o : outcomes) {
            for (dev.cellar.wal.WalSummaries.Note n : o.summaries()) {
                switch (n.state()) {
                    case WRITTEN:
                        summariesWritten++;
                        summariesDeferred.remove(n.segment());
                        break;
                    case UNSAFE:
                        summariesWritten++;
                        summariesDeferred.remove(n.segment());
                        summariesUnsafe.add(n.segment() + " (" + n.detail() + ")");
                        log.warn("wal-sweep {}: the summary of {} is unsafe: {}", serverName, n.segment(), n.detail());
                        break;
                    case DEFERRED:
                        summariesDeferred.add(n.segment());
                        log.debug("wal-sweep {}: the summary of {} waits for the next segment: {}", serverName, n.segment(), n.detail());
                        break;
                    case FAILED:
                        summaryFailures.add(n.segment() + " (" + n.detail() + ")");
                        log.warn("wal-sweep {}: no summary for {}: {}", serverName, n.segment(), n.detail());
                        break;
                    default:
                        break;
                }
            }
        }
        for (WalSweep.Outcome o : outcomes) {
            if (o.isProblem()) {
                problems.add(o.name() + " " + o.status() + " (" + o.reason() + ")");
                log.warn("wal-sweep {}: {} {}: {}", serverName, o.name(), o.status(), o.detail());
                continue;
            }
            lastHandled = o.name();
            if (o.status() == WalSweep.Status.ARCHIVED) {
                archived++;
                bytes += o.bytes();
            }
        }
        if (failure != null) {
            throw failure; // what completed is archived and gone from the spool; a restart handles the rest
        }
    }

    @Override
    public void update(ExecutionContext ctx) {
        if (lastHandled != null) {
            ctx.putString(WalSweepJobConfig.LAST_ARCHIVED, lastHandled);
        }
        ctx.putLong(WalSweepJobConfig.ARCHIVED, archived);
        ctx.putLong(WalSweepJobConfig.BYTES, bytes);
        ctx.putLong(WalSweepJobConfig.PROBLEMS, problems.size());
    }

    @Override
    public ExitStatus afterStep(StepExecution stepExecution) {
        release();
        String summaries = summaryLine();
        log.info("wal-sweep {}: {} files archived ({} MiB), {} problems; {}", serverName, archived, bytes >> 20, problems.size(), summaries);
        if (stepExecution.getStatus() != org.springframework.batch.core.BatchStatus.COMPLETED) {
            return null;
        }
        if (!problems.isEmpty() || !summaryFailures.isEmpty()) {
            String text = (problems.isEmpty() ? "" : problems.size() + " files kept in wal-errors: " + String.join("; ", problems) + ". ") + summaries;
            return new ExitStatus(WalSweepJobConfig.COMPLETED_WITH_WARNINGS, text);
        }
        return summaries.isEmpty() ? null : stepExecution.getExitStatus().addExitDescription(summaries);
    }

    /** The WAL summaries' part of the exit message: empty when summaries are off or there was nothing to summarize. */
    private String summaryLine() {
        if (summariesWritten == 0 && summariesDeferred.isEmpty() && summaryFailures.isEmpty()) {
            return "";
        }
        StringBuilder b = new StringBuilder("WAL summaries: " + summariesWritten + " written");
        if (!summariesUnsafe.isEmpty()) {
            b.append(", ").append(summariesUnsafe.size()).append(" unsafe: ").append(String.join("; ", summariesUnsafe));
        }
        if (!summariesDeferred.isEmpty()) {
            b.append(", ").append(summariesDeferred.size()).append(" waiting for the next segment (").append(String.join(", ", summariesDeferred)).append(")");
        }
        if (!summaryFailures.isEmpty()) {
            b.append(", ").append(summaryFailures.size()).append(" MISSING (the segments are archived; `cellar rebuild-wal-index` retries): ")
                    .append(String.join("; ", summaryFailures));
        }
        return b.toString();
    }

    /** The name of the segment before a spooled segment on its timeline ("" for anything else). */
    private String predecessor(String fileName) {
        var name = dev.cellar.wal.WalFileName.parse(fileName);
        if (name.isEmpty() || name.get().kind() != dev.cellar.wal.WalFileName.Kind.SEGMENT) {
            return "";
        }
        long n = name.get().segment().orElseThrow().segmentNumber(walSegmentSize);
        return n == 0 ? "" : dev.cellar.postgres.WalSegmentName.ofSegmentNumber(name.get().timeline(), n - 1, walSegmentSize).toString();
    }

    private void release() {
        if (workers != null) {
            workers.shutdownNow();
            workers = null;
        }
        try {
            if (lock != null) {
                lock.close();
            }
            if (storage != null) {
                storage.close();
            }
        } catch (Exception e) {
            log.warn("releasing the archive lock: {}", e.toString());
        } finally {
            lock = null;
            storage = null;
        }
    }
}
