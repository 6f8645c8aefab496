package dev.cellar.wal;

import dev.cellar.postgres.Lsn;
import dev.cellar.repository.RepositoryFormatException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * What the records starting in one WAL segment changed (docs/design.md 5.7, "WAL summaries"): per relation fork
 * ({@link RelationFork}) the set of blocks its records referenced and its <em>limit block</em>, the smallest length
 * the fork had in the segment (0: created, dropped or recreated; {@link #NO_LIMIT}: never shortened). A fork with
 * relation number 0 (and the main fork) is a whole-database sentinel: every relation of that tablespace and
 * database may have been recreated. An <em>unsafe</em> summary records WAL it could not vouch for (wal_level
 * minimal, a record that changes relations wholesale and that Cellar does not know); a backup must not rely on it.
 *
 * <p>Blocks are kept in chunks of 65,536 (a block number's high 16 bits name its chunk), each a bit set; the file
 * format ({@link #encode()}) writes a chunk as a list of 16-bit offsets while that is smaller than its bitmap.
 */
public final class WalSummary {

    /** {@code InvalidBlockNumber}: the fork was not shortened in the segment. */
    public static final long NO_LIMIT = 0xFFFF_FFFFL;
    static final int MAGIC = 0x4D535743; // "CWSM" little-endian
    static final int VERSION = 1;
    private static final int FLAG_UNSAFE = 1;
    private static final int CHUNK_BLOCKS = 1 << 16;
    private static final int BITMAP_BYTES = CHUNK_BLOCKS / 8;
    private static final int MAX_LISTED = BITMAP_BYTES / 2; // a list of this many offsets is as big as the bitmap
    private static final int HEADER = 50;

    /** A relation fork: tablespace, database and relation number ({@code RelFileLocator}) and fork (0 main, 1 fsm, 2 vm, 3 init). */
    public record RelationFork(long tablespace, long database, long relation, int fork) implements Comparable<RelationFork> {

        /** The whole-database sentinel of a tablespace and database. */
        public static RelationFork sentinel(long tablespace, long database) {
            return new RelationFork(tablespace, database, 0, 0);
        }

        public boolean isSentinel() {
            return relation == 0;
        }

        @Override
        public int compareTo(RelationFork o) {
            int c = Long.compare(tablespace, o.tablespace);
            if (c == 0) {
                c = Long.compare(database, o.database);
            }
            if (c == 0) {
                c = Long.compare(relation, o.relation);
            }
            return c != 0 ? c : Integer.compare(fork, o.fork);
        }

        @Override
        public String toString() {
            return tablespace + "/" + database + "/" + relation + (fork == 0 ? "" : "_" + new String[] {"main", "fsm", "vm", "init"}[fork & 3]);
        }
    }

    /** One fork's limit block and modified blocks. */
    private static final class Entry {
        long limit = NO_LIMIT;
        final TreeMap<Integer, BitSet> chunks = new TreeMap<>();
        /** The chunk the last block went to (a cache: a limit that empties it drops it). */
        int lastChunkNumber = -1;
        BitSet lastChunk;
    }

    private RelationFork lastFork;
    private Entry lastEntry;

    private final int timeline;
    private final int pgMajor;
    private final Lsn segmentStart;
    private final long segmentSize;
    private Lsn end;
    private long records;
    private String unsafeReason;
    /** Hashed while the summary is built (a segment has hundreds of thousands of block references); sorted on output. */
    private final java.util.HashMap<RelationFork, Entry> entries = new java.util.HashMap<>();

    private TreeMap<RelationFork, Entry> sorted() {
        return new TreeMap<>(entries);
    }

    /**
     * @param end where the last record starting in the segment ends (in the next segment when it crosses; the
     *            segment's end after a switch record)
     */
    public WalSummary(int timeline, int pgMajor, Lsn segmentStart, long segmentSize) {
        this.timeline = timeline;
        this.pgMajor = pgMajor;
        this.segmentStart = segmentStart;
        this.segmentSize = segmentSize;
        this.end = segmentStart;
    }

    // ---- building ---------------------------------------------------------------------------------------

    /** A record referenced this block. */
    public void markModified(RelationFork fork, long block) {
        markModified(fork.tablespace(), fork.database(), fork.relation(), fork.fork(), block);
    }

    /** The same, without a {@link RelationFork}: consecutive references mostly name the fork and chunk of the previous one. */
    void markModified(long tablespace, long database, long relation, int fork, long block) {
        Entry e;
        if (lastFork != null && lastFork.relation() == relation && lastFork.fork() == fork && lastFork.database() == database
                && lastFork.tablespace() == tablespace) {
            e = lastEntry;
        } else {
            lastFork = new RelationFork(tablespace, database, relation, fork);
            e = entries.computeIfAbsent(lastFork, f -> new Entry());
            lastEntry = e;
        }
        int chunk = (int) (block >>> 16);
        BitSet bits = e.lastChunk;
        if (bits == null || e.lastChunkNumber != chunk) {
            bits = e.chunks.computeIfAbsent(chunk, c -> new BitSet());
            e.lastChunk = bits;
            e.lastChunkNumber = chunk;
        }
        bits.set((int) (block & 0xFFFF));
    }

    /** The fork was truncated to {@code limit} blocks (0: created or dropped): blocks at or past it are forgotten. */
    public void setLimit(RelationFork fork, long limit) {
        Entry e = entries.computeIfAbsent(fork, f -> new Entry());
        if (limit >= e.limit) {
            return;
        }
        e.limit = limit;
        NavigableMap<Integer, BitSet> tail = e.chunks.tailMap((int) (limit >>> 16), true);
        List<Integer> empty = new ArrayList<>();
        for (Map.Entry<Integer, BitSet> c : tail.entrySet()) {
            long first = (long) c.getKey() << 16;
            int from = (int) Math.max(0, limit - first);
            c.getValue().clear(from, CHUNK_BLOCKS);
            if (c.getValue().isEmpty()) {
                empty.add(c.getKey());
            }
        }
        empty.forEach(e.chunks::remove);
        e.lastChunk = null;
        e.lastChunkNumber = -1;
    }

    /** The WAL in this segment cannot be vouched for; the first reason is kept. */
    public void markUnsafe(String reason) {
        if (unsafeReason == null) {
            unsafeReason = reason;
        }
    }

    void recordSeen(Lsn recordEnd) {
        records++;
        end = recordEnd;
    }

    void endAt(Lsn lsn) {
        end = lsn;
    }

    /**
     * Adds what a summary of later WAL says, as if its records followed this one's (docs/design.md 5.7, reading
     * them): its limits first (a smaller one forgets this summary's blocks at or past it), then the union of its
     * blocks, and its unsafe reason when this one has none.
     */
    public void absorb(WalSummary later) {
        for (Map.Entry<RelationFork, Entry> en : later.entries.entrySet()) {
            Entry l = en.getValue();
            if (l.limit != NO_LIMIT) {
                setLimit(en.getKey(), l.limit);
            }
            Entry e = entries.computeIfAbsent(en.getKey(), f -> new Entry());
            for (Map.Entry<Integer, BitSet> c : l.chunks.entrySet()) {
                e.chunks.computeIfAbsent(c.getKey(), k -> new BitSet()).or(c.getValue());
            }
            e.lastChunk = null;
            e.lastChunkNumber = -1;
        }
        later.unsafeReason().ifPresent(this::markUnsafe);
        lastFork = null;
        lastEntry = null;
        records += later.records;
        if (later.end.compareTo(end) > 0) {
            end = later.end;
        }
    }

    // ---- reading ----------------------------------------------------------------------------------------

    public int timeline() {
        return timeline;
    }

    public int pgMajor() {
        return pgMajor;
    }

    public Lsn segmentStart() {
        return segmentStart;
    }

    public long segmentSize() {
        return segmentSize;
    }

    /** Where the last record starting in the segment ends. */
    public Lsn end() {
        return end;
    }

    public long records() {
        return records;
    }

    public boolean isUnsafe() {
        return unsafeReason != null;
    }

    public Optional<String> unsafeReason() {
        return Optional.ofNullable(unsafeReason);
    }

    /** The forks that have a limit or modified blocks, in order. */
    public List<RelationFork> forks() {
        return List.copyOf(sorted().keySet());
    }

    /** {@link #NO_LIMIT} for a fork not shortened (or not mentioned). */
    public long limit(RelationFork fork) {
        Entry e = entries.get(fork);
        return e == null ? NO_LIMIT : e.limit;
    }

    /** The fork's modified blocks, ascending. */
    public long[] blocks(RelationFork fork) {
        Entry e = entries.get(fork);
        if (e == null) {
            return new long[0];
        }
        long[] out = new long[e.chunks.values().stream().mapToInt(BitSet::cardinality).sum()];
        int i = 0;
        for (Map.Entry<Integer, BitSet> c : e.chunks.entrySet()) {
            long first = Integer.toUnsignedLong(c.getKey()) << 16;
            for (int b = c.getValue().nextSetBit(0); b >= 0; b = c.getValue().nextSetBit(b + 1)) {
                out[i++] = first + b;
            }
        }
        return out;
    }

    /**
     * The fork's modified blocks in {@code [first, first + count)}, as offsets from {@code first} (a relation's 1 GiB
     * segment file is 131,072 blocks of 8 KiB from block {@code segment * 131072}).
     */
    public BitSet blocks(RelationFork fork, long first, int count) {
        BitSet out = new BitSet();
        Entry e = entries.get(fork);
        if (e == null || count <= 0) {
            return out;
        }
        long end = first + count;
        for (Map.Entry<Integer, BitSet> c : e.chunks.subMap((int) (first >>> 16), true, (int) ((end - 1) >>> 16), true).entrySet()) {
            long chunkFirst = Integer.toUnsignedLong(c.getKey()) << 16;
            BitSet bits = c.getValue();
            int from = (int) Math.max(0, first - chunkFirst);
            for (int b = bits.nextSetBit(from); b >= 0 && chunkFirst + b < end; b = bits.nextSetBit(b + 1)) {
                out.set((int) (chunkFirst + b - first));
            }
        }
        return out;
    }

    /** Number of modified blocks over all forks. */
    public long blockCount() {
        long n = 0;
        for (Entry e : entries.values()) {
            for (BitSet b : e.chunks.values()) {
                n += b.cardinality();
            }
        }
        return n;
    }

    // ---- the file format (docs/design.md 5.7) -------------------------------------------------------------

    /** The summary file's bytes: header, entries sorted by fork, CRC-32C of everything before it. */
    public byte[] encode() {
        byte[] reason = unsafeReason == null ? new byte[0] : unsafeReason.getBytes(StandardCharsets.UTF_8);
        if (reason.length > 0xFFFF) {
            reason = java.util.Arrays.copyOf(reason, 0xFFFF);
        }
        int size = HEADER + reason.length + 4;
        for (Entry e : entries.values()) {
            size += 21;
            for (BitSet b : e.chunks.values()) {
                int n = b.cardinality();
                size += 3 + (n < MAX_LISTED ? 2 + 2 * n : BITMAP_BYTES);
            }
        }
        ByteBuffer out = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(MAGIC).putShort((short) VERSION).putShort((short) (unsafeReason == null ? 0 : FLAG_UNSAFE))
                .putInt(timeline).putInt(pgMajor).putLong(segmentStart.value()).putLong(segmentSize).putLong(end.value())
                .putInt((int) records).putInt(entries.size()).putShort((short) reason.length).put(reason);
        for (Map.Entry<RelationFork, Entry> f : sorted().entrySet()) {
            RelationFork k = f.getKey();
            Entry e = f.getValue();
            out.putInt((int) k.tablespace()).putInt((int) k.database()).putInt((int) k.relation()).put((byte) k.fork())
                    .putInt((int) e.limit).putInt(e.chunks.size());
            for (Map.Entry<Integer, BitSet> c : e.chunks.entrySet()) {
                BitSet b = c.getValue();
                int n = b.cardinality();
                out.putShort((short) (int) c.getKey());
                if (n < MAX_LISTED) {
                    out.put((byte) 0).putShort((short) (n - 1));
                    for (int i = b.nextSetBit(0); i >= 0; i = b.nextSetBit(i + 1)) {
                        out.putShort((short) i);
                    }
                } else {
                    byte[] bitmap = java.util.Arrays.copyOf(b.toByteArray(), BITMAP_BYTES);
                    out.put((byte) 1).put(bitmap);
                }
            }
        }
        CRC32C crc = new CRC32C();
        crc.update(out.array(), 0, out.position());
        out.putInt((int) crc.getValue());
        return out.array();
    }

    /**
     * Reads a summary file, verifying its CRC-32C first.
     *
     * @param where the file's path, for messages
     * @throws RepositoryFormatException naming the file and the problem (truncated, checksum mismatch, not a
     *                                   summary, a newer format)
     */
    public static WalSummary decode(byte[] file, String where) {
        if (file.length < HEADER + 4) {
            throw new RepositoryFormatException(where + " is truncated: " + file.length + " bytes, a WAL summary has at least " + (HEADER + 4));
        }
        ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        if (in.getInt(0) != MAGIC) {
            throw new RepositoryFormatException(where + " is not a WAL summary (wrong magic number)");
        }
        int version = Short.toUnsignedInt(in.getShort(4));
        if (version > VERSION) {
            throw new dev.cellar.repository.NewerFormatException(where + " has WAL summary format " + version + "; this Cellar reads format "
                    + VERSION + " (upgrade Cellar)");
        }
        CRC32C crc = new CRC32C();
        crc.update(file, 0, file.length - 4);
        if ((int) crc.getValue() != in.getInt(file.length - 4)) {
            throw new RepositoryFormatException(where + ": WAL summary checksum mismatch (the file is damaged or truncated)");
        }
        try {
            in.position(6);
            int flags = Short.toUnsignedInt(in.getShort());
            WalSummary s = new WalSummary(in.getInt(), in.getInt(), Lsn.of(in.getLong()), in.getLong());
            s.end = Lsn.of(in.getLong());
            s.records = Integer.toUnsignedLong(in.getInt());
            long count = Integer.toUnsignedLong(in.getInt());
            byte[] reason = new byte[Short.toUnsignedInt(in.getShort())];
            in.get(reason);
            if ((flags & FLAG_UNSAFE) != 0) {
                s.unsafeReason = new String(reason, StandardCharsets.UTF_8);
            }
            RelationFork previous = null;
            for (long i = 0; i < count; i++) {
                RelationFork k = new RelationFork(Integer.toUnsignedLong(in.getInt()), Integer.toUnsignedLong(in.getInt()),
                        Integer.toUnsignedLong(in.getInt()), Byte.toUnsignedInt(in.get()));
                if (previous != null && previous.compareTo(k) >= 0) {
                    throw new RepositoryFormatException(where + ": WAL summary entries out of order at " + k);
                }
                previous = k;
                Entry e = new Entry();
                e.limit = Integer.toUnsignedLong(in.getInt());
                long chunks = Integer.toUnsignedLong(in.getInt());
                for (long c = 0; c < chunks; c++) {
                    int chunk = Short.toUnsignedInt(in.getShort());
                    int kind = in.get();
                    BitSet b;
                    if (kind == 0) {
                        int n = Short.toUnsignedInt(in.getShort()) + 1;
                        b = new BitSet();
                        for (int j = 0; j < n; j++) {
                            b.set(Short.toUnsignedInt(in.getShort()));
                        }
                    } else if (kind == 1) {
                        byte[] bitmap = new byte[BITMAP_BYTES];
                        in.get(bitmap);
                        b = BitSet.valueOf(bitmap);
                    } else {
                        throw new RepositoryFormatException(where + ": unknown chunk kind " + kind + " in the WAL summary");
                    }
                    e.chunks.put(chunk, b);
                }
                s.entries.put(k, e);
            }
            if (in.position() != file.length - 4) {
                throw new RepositoryFormatException(where + ": " + (file.length - 4 - in.position()) + " unexpected bytes after the WAL summary's entries");
            }
            return s;
        } catch (java.nio.BufferUnderflowException e) {
            throw new RepositoryFormatException(where + " is truncated: its entries run past its end");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WalSummary other && java.util.Arrays.equals(encode(), other.encode());
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(encode());
    }

    @Override
    public String toString() {
        return "WalSummary[tli " + timeline + ", " + segmentStart + ".." + end + ", " + records + " records, " + entries.size() + " forks, "
                + blockCount() + " blocks" + (unsafeReason == null ? "" : ", unsafe: " + unsafeReason) + "]";
    }

    /** Forks and blocks as text, one fork a line (tests and debugging). */
    public List<String> describe() {
        List<String> out = new ArrayList<>();
        for (RelationFork f : sorted().keySet()) {
            long l = limit(f);
            out.add(f + (l == NO_LIMIT ? "" : " limit " + l) + " blocks " + java.util.Arrays.toString(blocks(f)));
        }
        return Collections.unmodifiableList(out);
    }
}
