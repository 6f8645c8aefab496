package dev.cellar.wal;

import dev.cellar.postgres.Lsn;
import dev.cellar.postgres.WalSegmentName;
import dev.cellar.repository.RepositoryFormatException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Merges the WAL summaries of the WAL between a parent backup's start and a new backup's start into a
 * {@link ChangedBlockMap} (docs/design.md 5.7 and 5.6, WAL-derived incrementals), following the timeline history
 * from the parent's timeline to the current one.
 *
 * <p>A segment's summary comes from the repository when the sweep wrote it. When it has none (not swept yet, or its
 * crossing record was deferred), the reader summarizes the segment itself from the repository, the spool or the
 * server's {@code pg_wal}, in that order; the segment the range ends in is summarized up to the end LSN only (it is
 * still being written); a summary that does not decode (summaries are written without fsync) is computed again from
 * its segment the same way, as is one that describes another segment. Anything that leaves a doubt gives no map but
 * the reason: an unsafe summary, one of a newer format, a segment found nowhere or that cannot be summarized yet, a
 * timeline that does not descend from the parent's.
 */
public final class ChangedBlockMapReader {

    /**
     * Told how far the map is, about once a second while it takes longer than that (segments whose summary was read or
     * computed, of all in the range). It may throw to abandon the map (a stop request): {@link #read} then throws that
     * same exception instead of returning a fallback.
     */
    public interface Progress {
        void update(int segmentsDone, int segmentsTotal);

        Progress NONE = (done, total) -> { };
    }

    /** An exception thrown by the {@link Progress}: carried out of the reader's own error handling. */
    private static final class Abandoned extends RuntimeException {
        Abandoned(RuntimeException cause) {
            super(cause);
        }
    }

    /** Calls the progress at most once per interval, from the thread that runs {@link #read}. */
    private static final class Reporter {
        private final Progress progress;
        private final long everyNanos;
        private long last = System.nanoTime();
        private boolean reported;

        Reporter(Progress progress, long everyNanos) {
            this.progress = progress;
            this.everyNanos = everyNanos;
        }

        void tick(int done, int total) {
            long now = System.nanoTime();
            if (now - last >= everyNanos) {
                last = now;
                report(done, total);
            }
        }

        /** Once the map is built: the last count, when earlier ones were told (so the step's figures end complete). */
        void finish(int total) {
            if (reported) {
                report(total, total);
            }
        }

        private void report(int done, int total) {
            reported = true;
            try {
                progress.update(done, total);
            } catch (RuntimeException e) {
                throw new Abandoned(e);
            }
        }
    }

    /** A map, or why there is none. */
    public record Outcome(ChangedBlockMap map, String fallbackReason) {
        public boolean hasMap() {
            return map != null;
        }
    }

    /** How far past the end LSN the segment it lies in is read first: the record starting there must be decoded. */
    static final int TAIL_MARGIN = 1 << 20;
    /** Segments summarized at once when the sweep has not summarized them (each holds one segment in memory). */
    static final int THREADS = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));

    private final WalArchive archive;
    private final Path spool;
    private final Path pgWal;
    private final int pgMajor;
    private final long segmentSize;
    private final long reportEveryNanos;

    /**
     * @param spool where segments not yet archived lie (null: none)
     * @param pgWal the server's {@code pg_wal} directory (null: not readable here)
     */
    public ChangedBlockMapReader(WalArchive archive, Path spool, Path pgWal, int pgMajor, long segmentSize) {
        this(archive, spool, pgWal, pgMajor, segmentSize, 1_000_000_000L);
    }

    /** @param reportEveryNanos how often a {@link Progress} is told (tests) */
    ChangedBlockMapReader(WalArchive archive, Path spool, Path pgWal, int pgMajor, long segmentSize, long reportEveryNanos) {
        this.reportEveryNanos = reportEveryNanos;
        this.archive = archive;
        this.spool = spool;
        this.pgWal = pgWal;
        this.pgMajor = pgMajor;
        this.segmentSize = segmentSize;
    }

    /**
     * The changes of the WAL from {@code from} on {@code fromTimeline} to {@code to} on {@code toTimeline}.
     *
     * @param fromEnd where the parent backup ended (its stop LSN): it must lie on its timeline too, or the parent may hold
     *                changes of a timeline the current one does not descend from
     */
    public Outcome read(int fromTimeline, Lsn from, Lsn fromEnd, int toTimeline, Lsn to) {
        return read(fromTimeline, from, fromEnd, toTimeline, to, Progress.NONE);
    }

    /** As {@link #read(int, Lsn, Lsn, int, Lsn)}, telling {@code progress} how far it is; what the progress throws is thrown. */
    public Outcome read(int fromTimeline, Lsn from, Lsn fromEnd, int toTimeline, Lsn to, Progress progress) {
        try {
            return readOrFail(fromTimeline, from, fromEnd, toTimeline, to, new Reporter(progress, reportEveryNanos));
        } catch (Abandoned e) {
            throw (RuntimeException) e.getCause();
        } catch (IOException | RuntimeException e) {
            return new Outcome(null, "reading the WAL summaries failed: " + (e.getMessage() == null ? e.toString() : e.getMessage()));
        }
    }

    private Outcome readOrFail(int fromTimeline, Lsn from, Lsn fromEnd, int toTimeline, Lsn to, Reporter reporter) throws IOException {
        if (to.compareTo(from) < 0) {
            return new Outcome(null, "the backup starts at " + to + ", before its parent's start " + from);
        }
        TimelineHistory history;
        if (toTimeline == fromTimeline) {
            history = TimelineHistory.root(toTimeline);
        } else {
            WalFileName name = WalFileName.parse(String.format("%08X.history", toTimeline)).orElseThrow();
            byte[] content = head(name, Integer.MAX_VALUE);
            if (content == null) {
                return new Outcome(null, "the history of timeline " + toTimeline + " (" + name.name() + ") was found neither in the repository, "
                        + "the spool nor pg_wal");
            }
            history = TimelineHistory.parse(toTimeline, new String(content, StandardCharsets.UTF_8));
        }
        TimelineHistory.Step parentStep = history.step(fromTimeline);
        if (parentStep == null || !parentStep.contains(from)) {
            return new Outcome(null, "timeline " + toTimeline + " does not descend from the parent's timeline " + fromTimeline + " at " + from);
        }
        if (parentStep.end() != null && fromEnd.compareTo(parentStep.end()) > 0) {
            return new Outcome(null, "the parent ends at " + fromEnd + ", after timeline " + toTimeline + " left timeline " + fromTimeline
                    + " at " + parentStep.end());
        }
        long started = System.nanoTime();
        long first = from.segmentNumber(segmentSize);
        long last = to.segmentNumber(segmentSize);
        int count = (int) (last - first + 1);
        // First the stored summaries, in order; the segments without a (decodable) one are summarized here, in parallel.
        WalFileName[] names = new WalFileName[count];
        WalSummary[] summaries = new WalSummary[count];
        boolean[] damaged = new boolean[count];
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long n = first + i;
            names[i] = WalFileName.parse(WalSegmentName.ofSegmentNumber(history.timelineOfSegment(n, segmentSize), n, segmentSize).toString())
                    .orElseThrow();
            try {
                summaries[i] = archive.readSummary(names[i]).orElse(null);
            } catch (dev.cellar.repository.NewerFormatException e) {
                return new Outcome(null, e.getMessage());
            } catch (RepositoryFormatException e) {
                // Summaries are written without fsync (derived data): after a system crash one may be damaged. The
                // segment itself is verified by its zstd checksum, so its summary is computed again from it.
                damaged[i] = true;
            }
            if (summaries[i] == null) {
                missing.add(i);
            }
            reporter.tick(i + 1 - missing.size(), count);
        }
        Outcome[] failures = new Outcome[count];
        summarizeMissing(missing, names, summaries, damaged, failures, last, to, reporter, count);
        WalSummary merged = new WalSummary(toTimeline, pgMajor, Lsn.of(first * segmentSize), segmentSize);
        for (int i = 0; i < count; i++) {
            if (failures[i] != null) {
                return failures[i];
            }
            WalSummary summary = summaries[i];
            if (summary.isUnsafe()) {
                return new Outcome(null, "the WAL of " + names[i].name() + " cannot vouch for the blocks it changed: " + summary.unsafeReason().orElse(""));
            }
            merged.absorb(summary);
        }
        reporter.finish(count);
        int damagedCount = 0;
        for (boolean d : damaged) {
            damagedCount += d ? 1 : 0;
        }
        return new Outcome(new ChangedBlockMap(merged, from, to, count, missing.size(), damagedCount,
                (System.nanoTime() - started) / 1_000_000), null);
    }

    /** Summarizes the segments at {@code missing}, on up to {@link #THREADS} threads; a failure goes to {@code failures}. */
    private void summarizeMissing(List<Integer> missing, WalFileName[] names, WalSummary[] summaries, boolean[] damaged,
                                  Outcome[] failures, long last, Lsn to, Reporter reporter, int count) throws IOException {
        if (missing.isEmpty()) {
            return;
        }
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(Math.min(THREADS, missing.size()), r -> {
            Thread t = new Thread(r, "cellar-wal-map");
            t.setDaemon(true);
            return t;
        });
        java.util.concurrent.atomic.AtomicInteger summarized = new java.util.concurrent.atomic.AtomicInteger();
        try {
            List<java.util.concurrent.Future<Object>> tasks = new ArrayList<>();
            for (int i : missing) {
                tasks.add(pool.submit(() -> {
                    Object r = summarizeOne(names[i], damaged[i], last, to);
                    summarized.incrementAndGet();
                    return r;
                }));
            }
            List<Object> results = dev.cellar.repository.ParallelWork.awaitAll(tasks,
                    () -> reporter.tick(count - missing.size() + summarized.get(), count));
            for (int k = 0; k < missing.size(); k++) {
                if (results.get(k) instanceof WalSummary summary) {
                    summaries[missing.get(k)] = summary;
                } else {
                    failures[missing.get(k)] = (Outcome) results.get(k);
                }
            }
        } finally {
            // A stop (or failure) ends the map: its workers, which only read, are given a few seconds to end.
            dev.cellar.repository.ParallelWork.stop(pool, 10);
        }
    }

    /** The summary of one segment computed from its content, or the outcome saying why there is none. */
    private Object summarizeOne(WalFileName name, boolean wasDamaged, long last, Lsn to) throws IOException {
        long n = name.segment().orElseThrow().segmentNumber(segmentSize);
        // The segment the range ends in is read up to a little past the end LSN first (it is usually pg_wal's
        // current segment, mostly not written yet), whole when that is not enough.
        long needed = to.offsetInSegment(segmentSize) + TAIL_MARGIN;
        byte[] content = head(name, n == last && needed < segmentSize ? (int) needed : Integer.MAX_VALUE);
        if (content == null) {
            return new Outcome(null, "WAL segment " + name.name() + (wasDamaged ? " has a damaged summary" : " has no summary")
                    + " and is neither in the repository, the spool nor pg_wal");
        }
        WalRecordReader.Continuation next = WalSummarizer.following(name, segmentSize, this::head);
        WalSummarizer.Result r = n == last
                ? WalSummarizer.summarizeBefore(name, content, segmentSize, pgMajor, next, to)
                : WalSummarizer.summarize(name, content, pgMajor, next);
        if (!r.isComplete() && n == last && content.length < segmentSize) {
            byte[] whole = head(name, Integer.MAX_VALUE);
            if (whole != null) {
                r = WalSummarizer.summarizeBefore(name, whole, segmentSize, pgMajor, next, to);
            }
        }
        if (!r.isComplete()) {
            return new Outcome(null, "WAL segment " + name.name() + " cannot be summarized yet: " + r.incomplete());
        }
        return r.summary();
    }

    /** The map of summaries given in WAL order (none summarized by a reader). */
    public static ChangedBlockMap merge(Lsn from, Lsn to, java.util.List<WalSummary> summaries) {
        WalSummary merged = new WalSummary(summaries.isEmpty() ? 1 : summaries.get(0).timeline(), 0, from, 1);
        summaries.forEach(merged::absorb);
        return new ChangedBlockMap(merged, from, to, summaries.size(), 0, 0, 0);
    }

    /**
     * The first {@code bytes} bytes (all of it for {@code Integer.MAX_VALUE}) of a WAL file: from the repository
     * (verified, so read whole), else the spool, else pg_wal; null when none has it.
     */
    private byte[] head(WalFileName name, int bytes) throws IOException {
        if (archive.contains(name)) {
            byte[] all = archive.read(name);
            return all.length <= bytes ? all : java.util.Arrays.copyOf(all, bytes);
        }
        for (Path dir : new Path[] {spool, pgWal}) {
            if (dir != null) {
                byte[] b = WalSummarizer.headOf(dir.resolve(name.name()), bytes);
                if (b != null) {
                    return b;
                }
            }
        }
        return null;
    }
}
