package dev.cellar.wal;

import dev.cellar.repository.ServerIdentity;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Moves WAL from the spool ({@code archive_command} drops files there) into the repository, one
 * file at a time, in WAL order. A file leaves the spool only once it is durable in the repository,
 * or known to be there already with the same bytes, or kept in wal-errors:
 * <ul>
 *   <li>a segment (or .partial) whose name, size or first page header is wrong: {@code corrupt};</li>
 *   <li>a name that is no WAL file at all: {@code unknown};</li>
 *   <li>a name already archived with other bytes: {@code duplicate} (the archived file is never
 *       touched; an operator decides);</li>
 *   <li>a name already archived with the same bytes (PostgreSQL archives again after a crash):
 *       dropped from the spool.</li>
 * </ul>
 */
public final class WalSweep {

    /** What became of one spooled file. */
    public enum Status { ARCHIVED, ALREADY_ARCHIVED, DUPLICATE, CORRUPT, UNKNOWN }

    /**
     * @param reason a few words for a summary line ("WRONG_PAGE_ADDRESS", "different content"); empty when archived
     * @param detail the whole story, for the log
     */
    public record Outcome(String name, Status status, long bytes, String reason, String detail, List<WalSummaries.Note> summaries) {

        public Outcome(String name, Status status, long bytes, String reason, String detail) {
            this(name, status, bytes, reason, detail, List.of());
        }

        public boolean isProblem() {
            return status == Status.DUPLICATE || status == Status.CORRUPT || status == Status.UNKNOWN;
        }
    }

    private final WalArchive archive;
    private final Path spool;
    private final ServerIdentity identity;
    private final WalSummaries summaries;

    /** A sweep that writes WAL summaries. */
    public WalSweep(WalArchive archive, Path spool, ServerIdentity identity) {
        this(archive, spool, identity, true);
    }

    /** @param summarize whether to write each archived segment's summary (docs/design.md 5.7) */
    public WalSweep(WalArchive archive, Path spool, ServerIdentity identity, boolean summarize) {
        this.archive = archive;
        this.spool = spool;
        this.identity = identity;
        this.summaries = summarize ? new WalSummaries(archive, identity.pgMajor(), identity.walSegmentSize(), spool) : null;
    }

    /** Where a spooled file of this name lies. */
    public Path spoolPath(String fileName) {
        return spool.resolve(fileName);
    }

    /** Spooled files, WAL files first in WAL order, then anything else by name; temp files of the archive script excluded. */
    public List<Path> pending() throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(spool)) {
            for (Path p : s) {
                if (!p.getFileName().toString().startsWith(".") && Files.isRegularFile(p)) {
                    files.add(p);
                }
            }
        }
        files.sort(Comparator.comparing((Path p) -> WalFileName.parse(p.getFileName().toString()).isEmpty())
                .thenComparing(p -> WalFileName.parse(p.getFileName().toString()).orElse(null), Comparator.nullsLast(Comparator.naturalOrder()))
                .thenComparing(p -> p.getFileName().toString()));
        return files;
    }

    /** Handles one spooled file; afterwards it is gone from the spool (unless this throws: then nothing changed). */
    public Outcome sweep(Path file) throws IOException {
        return sweep(file, true);
    }

    /**
     * Handles one spooled file. With {@code removeStored} false, a file stored (or found stored) stays in
     * the spool for the caller to remove once it has recorded it (in the WAL index): a process killed
     * in between finds it again, already archived, and records it then.
     */
    public Outcome sweep(Path file, boolean removeStored) throws IOException {
        return sweep(file, removeStored, true);
    }

    /**
     * As {@link #sweep(Path, boolean)}; then, for a segment stored (or found stored) and when summaries are on,
     * writes its summary if it has none and, with {@code completePrevious}, the previous segment's if that one
     * waited for this segment (a sweep passes false when it handles the previous segment itself). A summary that
     * cannot be written never changes what becomes of the segment: the outcome only carries notes.
     */
    public Outcome sweep(Path file, boolean removeStored, boolean completePrevious) throws IOException {
        String fileName = file.getFileName().toString();
        byte[] content = Files.readAllBytes(file);
        Optional<WalFileName> parsed = WalFileName.parse(fileName);
        if (parsed.isEmpty()) {
            String where = archive.quarantine(fileName, content, "unknown");
            Files.delete(file);
            return new Outcome(fileName, Status.UNKNOWN, content.length, "not a WAL file name", "not a WAL file name; kept as " + where);
        }
        WalFileName name = parsed.get();
        if (name.holdsWal()) {
            try {
                WalPageHeader.validate(content, name, content.length, identity.pgMajor(), identity.systemIdentifier(), identity.walSegmentSize());
            } catch (WalValidationException e) {
                String where = archive.quarantine(fileName, content, "corrupt");
                Files.delete(file);
                return new Outcome(fileName, Status.CORRUPT, content.length, e.reason().name(), e.getMessage() + "; kept as " + where);
            }
        }
        if (archive.contains(name)) {
            if (Arrays.equals(archive.read(name), content)) {
                List<WalSummaries.Note> notes = summarize(name, content, completePrevious, true);
                if (removeStored) {
                    Files.delete(file);
                }
                return new Outcome(fileName, Status.ALREADY_ARCHIVED, content.length, "", "already archived with the same content", notes);
            }
            String where = archive.quarantine(fileName, content, "duplicate");
            Files.delete(file);
            return new Outcome(fileName, Status.DUPLICATE, content.length, "different content",
                    "already archived with DIFFERENT content; the archived file is kept, this one is in " + where);
        }
        long stored = archive.store(name, content);
        List<WalSummaries.Note> notes = summarize(name, content, completePrevious, false);
        if (removeStored) {
            Files.delete(file);
        }
        return new Outcome(fileName, Status.ARCHIVED, content.length, "", "stored " + stored + " bytes", notes);
    }

    private List<WalSummaries.Note> summarize(WalFileName name, byte[] content, boolean completePrevious, boolean mayExist) {
        if (summaries == null || name.kind() != WalFileName.Kind.SEGMENT) {
            return List.of();
        }
        List<WalSummaries.Note> notes = new ArrayList<>();
        if (completePrevious) {
            notes.addAll(summaries.completePrevious(name, content));
        }
        try {
            if (!mayExist || !archive.hasSummary(name)) {
                notes.add(summaries.summarize(name, content));
            }
        } catch (IOException | RuntimeException e) {
            notes.add(new WalSummaries.Note(name.name(), WalSummaries.State.FAILED, String.valueOf(e.getMessage())));
        }
        return notes;
    }
}
