package dev.cellar.wal;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import dev.cellar.repository.RepositoryFormatException;
import dev.cellar.repository.RepositoryLayout;
import dev.cellar.storage.Storage;
import java.io.IOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The server's WAL in the repository (docs/design.md 5.7): segments, {@code .partial} and
 * {@code .backup} files as {@code wal/TTTTTTTTLLLLLLLL/<name>.zst}, timeline history files as
 * {@code wal/<name>.zst}; zstd frames carrying zstd's own content checksum, so every read is
 * verified. Files are write-once. Files that must not be archived are kept, as found, under
 * {@code wal-errors/<name>.<stamp>.<reason>}.
 */
public final class WalArchive {

    static final String SUFFIX = ".zst";
    static final String SUMMARY_SUFFIX = ".summary";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private final Storage storage;
    private final String server;
    private final int level;

    public WalArchive(Storage storage, String server, int zstdLevel) {
        this.storage = storage;
        this.server = server;
        this.level = zstdLevel;
    }

    public String pathOf(WalFileName name) {
        String dir = RepositoryLayout.walDir(server);
        String sub = name.repositoryDirectory();
        return (sub.isEmpty() ? dir : dir + "/" + sub) + "/" + name.name() + SUFFIX;
    }

    public boolean contains(WalFileName name) throws IOException {
        return storage.exists(pathOf(name));
    }

    /** The archived content, verified by zstd's content checksum. */
    public byte[] read(WalFileName name) throws IOException {
        byte[] stored = storage.readAll(pathOf(name));
        long size = Zstd.getFrameContentSize(stored);
        if (size < 0 || size > Integer.MAX_VALUE) {
            throw new RepositoryFormatException(pathOf(name) + " is not a zstd frame of known size");
        }
        try {
            return Zstd.decompress(stored, (int) size);
        } catch (RuntimeException e) {
            throw new RepositoryFormatException(pathOf(name) + " is damaged: " + e.getMessage(), e);
        }
    }

    /** Where the summary of a segment lies: next to it, {@code <name>.summary} (docs/design.md 5.7). */
    public String summaryPathOf(WalFileName segment) {
        return RepositoryLayout.walDir(server) + "/" + segment.repositoryDirectory() + "/" + segment.name() + SUMMARY_SUFFIX;
    }

    public boolean hasSummary(WalFileName segment) throws IOException {
        return storage.exists(summaryPathOf(segment));
    }

    /** The segment's summary, verified (its CRC-32C); empty when there is none. */
    public Optional<WalSummary> readSummary(WalFileName segment) throws IOException {
        String path = summaryPathOf(segment);
        byte[] bytes;
        try {
            bytes = storage.readAll(path);
        } catch (java.nio.file.NoSuchFileException | java.io.FileNotFoundException gone) {
            return Optional.empty(); // never written, or deleted meanwhile (prune, rebuild-wal-index replacing a damaged one)
        }
        WalSummary s = WalSummary.decode(bytes, path);
        long number = segment.segment().orElseThrow().segmentNumber(s.segmentSize());
        if (s.timeline() != segment.timeline() || s.segmentStart().value() != number * s.segmentSize()) {
            throw new RepositoryFormatException(path + " describes another segment (timeline " + s.timeline() + ", start " + s.segmentStart() + ")");
        }
        return Optional.of(s);
    }

    /** Stores a segment's summary write-once; false when it was there already (summaries are derived, so the same). */
    public boolean storeSummary(WalFileName segment, WalSummary summary) throws IOException {
        try {
            storage.writeDerived(summaryPathOf(segment), summary.encode());
            return true;
        } catch (java.nio.file.FileAlreadyExistsException e) {
            return false;
        }
    }

    /** Deletes a segment's summary; true when there was one. */
    public boolean deleteSummary(WalFileName segment) throws IOException {
        return storage.delete(summaryPathOf(segment));
    }

    /** The segments that have a summary in the repository (from the listing). */
    public java.util.Set<WalFileName> summarized() throws IOException {
        java.util.Set<WalFileName> out = new java.util.TreeSet<>();
        String dir = RepositoryLayout.walDir(server);
        for (Storage.Entry e : storage.list(dir)) {
            if (e.directory()) {
                for (Storage.Entry f : storage.list(dir + "/" + e.name())) {
                    if (f.name().endsWith(SUMMARY_SUFFIX)) {
                        WalFileName.parse(f.name().substring(0, f.name().length() - SUMMARY_SUFFIX.length())).ifPresent(out::add);
                    }
                }
            }
        }
        return out;
    }

    /** Stores a file write-once; returns the stored size. */
    public long store(WalFileName name, byte[] content) throws IOException {
        byte[] stored;
        try (ZstdCompressCtx ctx = new ZstdCompressCtx()) {
            ctx.setLevel(level);
            ctx.setChecksum(true);
            ctx.setContentSize(true);
            stored = ctx.compress(content);
        }
        storage.write(pathOf(name), stored, Storage.IfExists.FAIL);
        return stored.length;
    }

    /** Keeps a file that must not be archived, as found, for an operator to look at; returns where. */
    public String quarantine(String fileName, byte[] content, String reason) throws IOException {
        String path = RepositoryLayout.walErrorsDir(server) + "/" + fileName + "." + STAMP.format(Instant.now()) + "." + reason;
        for (int n = 2; storage.exists(path); n++) {
            path = RepositoryLayout.walErrorsDir(server) + "/" + fileName + "." + STAMP.format(Instant.now()) + "-" + n + "." + reason;
        }
        storage.write(path, content, Storage.IfExists.FAIL);
        return path;
    }

    /** Files under wal-errors: what `check` reports until an operator deals with them. */
    public List<String> errors() throws IOException {
        List<String> out = new ArrayList<>();
        storage.list(RepositoryLayout.walErrorsDir(server)).forEach(e -> out.add(e.name()));
        return out;
    }

    /** Every archived WAL file, in WAL order. */
    public List<WalFileName> list() throws IOException {
        List<WalFileName> out = new ArrayList<>();
        String dir = RepositoryLayout.walDir(server);
        for (Storage.Entry e : storage.list(dir)) {
            if (e.directory()) {
                for (Storage.Entry f : storage.list(dir + "/" + e.name())) {
                    parseStored(f.name()).ifPresent(out::add);
                }
            } else {
                parseStored(e.name()).ifPresent(out::add);
            }
        }
        out.sort(null);
        return out;
    }

    private static Optional<WalFileName> parseStored(String stored) {
        return stored.endsWith(SUFFIX) ? WalFileName.parse(stored.substring(0, stored.length() - SUFFIX.length())) : Optional.empty();
    }
}
