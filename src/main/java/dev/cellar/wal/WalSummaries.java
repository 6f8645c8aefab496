package dev.cellar.wal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Writes the summaries of archived segments (docs/design.md 5.7): at sweep time, and afterwards for the ones
 * missing ({@code cellar rebuild-wal-index}). A summary is written only once it is complete: the record crossing
 * the segment's end is read from the next segments, found in the spool (not yet archived) or in the repository;
 * when they are not there yet, the summary is deferred (no file) and written by the sweep that archives the next
 * segment. Nothing here ever stops a segment from being archived: a failure is reported, and the summary stays
 * missing, which a backup treats as "no information".
 */
public final class WalSummaries {

    /** What became of one segment's summary. */
    public enum State { WRITTEN, REPLACED, UNSAFE, DEFERRED, FAILED, PRESENT }

    /** @param detail the unsafe reason, why it is deferred, or the failure; empty when written */
    public record Note(String segment, State state, String detail) {
    }

    private final WalArchive archive;
    private final int pgMajor;
    private final long segmentSize;
    private final Path spool;

    /** @param spool where segments not yet archived lie (null: the repository only) */
    public WalSummaries(WalArchive archive, int pgMajor, long segmentSize, Path spool) {
        this.archive = archive;
        this.pgMajor = pgMajor;
        this.segmentSize = segmentSize;
        this.spool = spool;
    }

    /**
     * A segment's first bytes: from the spool when it is there, else from the repository, else its {@code .partial}
     * (the last segment of a timeline that ended there: it holds the WAL up to the switch); null when none has it.
     */
    private byte[] head(WalFileName segment, int bytes) throws IOException {
        byte[] whole = stored(segment, bytes);
        if (whole == null && segment.kind() == WalFileName.Kind.SEGMENT) {
            return stored(WalFileName.parse(segment.name() + ".partial").orElseThrow(), bytes);
        }
        return whole;
    }

    private byte[] stored(WalFileName segment, int bytes) throws IOException {
        if (spool != null) {
            byte[] spooled = WalSummarizer.headOf(spool.resolve(segment.name()), bytes);
            if (spooled != null) {
                return spooled;
            }
        }
        if (!archive.contains(segment)) {
            return null;
        }
        byte[] all = archive.read(segment);
        return all.length <= bytes ? all : java.util.Arrays.copyOf(all, bytes);
    }

    /** Summarizes an archived segment whose content is at hand, and stores the summary when it is complete. */
    public Note summarize(WalFileName segment, byte[] content) {
        return summarize(segment, content, WalSummarizer.following(segment, segmentSize, this::head));
    }

    private Note summarize(WalFileName segment, byte[] content, WalRecordReader.Continuation next) {
        try {
            WalSummarizer.Result r = WalSummarizer.summarize(segment, content, pgMajor, next);
            if (!r.isComplete()) {
                return new Note(segment.name(), State.DEFERRED, r.incomplete());
            }
            boolean stored = archive.storeSummary(segment, r.summary());
            if (r.summary().isUnsafe()) {
                return new Note(segment.name(), State.UNSAFE, r.summary().unsafeReason().orElse(""));
            }
            return new Note(segment.name(), stored ? State.WRITTEN : State.PRESENT, "");
        } catch (IOException | RuntimeException e) {
            return new Note(segment.name(), State.FAILED, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /**
     * Completes the summary of the segment before {@code segment} on its timeline when it is archived without
     * one (its crossing record waited for {@code segment}, whose content is at hand). Empty when there is nothing
     * to do.
     */
    public List<Note> completePrevious(WalFileName segment, byte[] content) {
        List<Note> out = new ArrayList<>();
        long number = segment.segment().orElseThrow().segmentNumber(segmentSize);
        if (number == 0) {
            return out;
        }
        WalFileName previous = WalFileName.parse(dev.cellar.postgres.WalSegmentName
                .ofSegmentNumber(segment.timeline(), number - 1, segmentSize).toString()).orElseThrow();
        try {
            if (!archive.contains(previous) || archive.hasSummary(previous)) {
                return out;
            }
            byte[] before = archive.read(previous);
            out.add(summarize(previous, before, (k, bytes) -> {
                if (k == 1) {
                    return content.length <= bytes ? content : java.util.Arrays.copyOf(content, bytes);
                }
                return WalSummarizer.following(previous, segmentSize, this::head).head(k, bytes);
            }));
        } catch (IOException | RuntimeException e) {
            out.add(new Note(previous.name(), State.FAILED, e.getMessage() == null ? e.toString() : e.getMessage()));
        }
        return out;
    }

    /**
     * Writes the summary of every archived segment that has none and can have one, and replaces every summary that
     * does not decode (they are written without fsync: a system crash may damage one) ({@code rebuild-wal-index}).
     */
    public List<Note> writeMissing() throws IOException {
        Set<WalFileName> done = archive.summarized();
        List<Note> out = new ArrayList<>();
        for (WalFileName name : archive.list()) {
            if (name.kind() != WalFileName.Kind.SEGMENT) {
                continue;
            }
            String replaced = null;
            if (done.contains(name)) {
                try {
                    archive.readSummary(name);
                    continue;
                } catch (dev.cellar.repository.NewerFormatException newer) {
                    out.add(new Note(name.name(), State.FAILED, newer.getMessage()));
                    continue;
                } catch (dev.cellar.repository.RepositoryFormatException damaged) {
                    replaced = damaged.getMessage();
                    archive.deleteSummary(name);
                } catch (IOException e) {
                    out.add(new Note(name.name(), State.FAILED, e.getMessage() == null ? e.toString() : e.getMessage()));
                    continue;
                }
            }
            byte[] content;
            try {
                content = archive.read(name);
            } catch (IOException | RuntimeException e) {
                out.add(new Note(name.name(), State.FAILED, e.getMessage()));
                continue;
            }
            Note note = summarize(name, content);
            out.add(replaced != null && note.state() == State.WRITTEN ? new Note(name.name(), State.REPLACED, replaced) : note);
        }
        return out;
    }
}
