package dev.cellar.wal;

import dev.cellar.postgres.Lsn;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Reads the WAL records that start in one segment (PostgreSQL 13 to 18; their record format is the
 * same). Used by a restore's plan to learn the transaction times and restore points the archive
 * holds, so that it can refuse a target the archived WAL does not reach before PostgreSQL replays
 * for minutes only to stop with "recovery ended before configured recovery target was reached".
 *
 * <p>The segment is read as a stream of pages: a long page header (40 bytes) on the first page, a
 * short one (24) on the others, each checked to carry the expected page address; the bytes of a
 * record continued from the previous segment ({@code xlp_rem_len} of the first page) are skipped.
 * Records are {@code MAXALIGN}ed (8), may be split across pages anywhere (even inside their
 * header), and carry a CRC-32C over their data then the first 20 bytes of their header. Reading
 * stops at the end of valid WAL: a zero length, a CRC mismatch, a page of another position (a
 * recycled segment's old content), or a record continuing into the next segment (whose tail this
 * reader does not have).
 *
 * <p>Record header ({@code XLogRecord}, 24 bytes): {@code u32 xl_tot_len, u32 xl_xid, u64 xl_prev,
 * u8 xl_info, u8 xl_rmid, 2 pad, u32 xl_crc}. After it, block-reference headers and then the data;
 * the record's main data is its last {@code main_data_len} bytes (fragment 255: 1-byte length,
 * 254: 4-byte length).
 */
public final class WalRecordReader {

    /** Resource manager ids ({@code rmgrlist.h}), stable from 13 to 18. */
    public static final int RM_XLOG_ID = 0;
    public static final int RM_XACT_ID = 1;
    public static final int RM_SMGR_ID = 2;
    public static final int RM_DBASE_ID = 4;

    /** {@code XLOG_RESTORE_POINT} (RM_XLOG_ID) and the transaction record kinds ({@code xact.h}). */
    public static final int XLOG_RESTORE_POINT = 0x70;
    public static final int XLOG_XACT_OPMASK = 0x70;
    public static final int XLOG_XACT_COMMIT = 0x00;
    public static final int XLOG_XACT_ABORT = 0x20;
    public static final int XLOG_XACT_COMMIT_PREPARED = 0x30;
    public static final int XLOG_XACT_ABORT_PREPARED = 0x40;

    /** {@code XLOG_SWITCH} (RM_XLOG_ID). */
    public static final int XLOG_SWITCH = 0x40;
    /** Low bit of {@code xl_info}: the record changes relation files in a way its block references do not show. */
    public static final int XLR_SPECIAL_REL_UPDATE = 0x01;

    private static final int PAGE = WalPageHeader.XLOG_BLCKSZ;
    /** {@code XLogRecordMaxSize} (1020 MiB); anything longer is garbage. */
    private static final long MAX_RECORD = 1020L * 1024 * 1024;
    private static final int XLP_FIRST_IS_CONTRECORD = 0x0001;
    private static final int XLP_FIRST_IS_OVERWRITE_CONTRECORD = 0x0008;
    private static final int BKPBLOCK_FORK_MASK = 0x0F;
    private static final int SIZE_OF_RECORD = 24;
    private static final int SHORT_HEADER = 24;
    private static final int LONG_HEADER = 40;
    private static final int XLR_MAX_BLOCK_ID = 32;
    private static final int BKPBLOCK_HAS_IMAGE = 0x10;
    private static final int BKPBLOCK_SAME_REL = 0x80;
    private static final int BKPIMAGE_HAS_HOLE = 0x01;
    /** Since PostgreSQL 2000-01-01, in microseconds from the Unix epoch. */
    private static final long POSTGRES_EPOCH_MICROS = 946_684_800_000_000L;

    /** A block reference of a record: the relation file ({@code RelFileLocator}), the fork and the block number. */
    public record BlockRef(long tablespace, long database, long relation, int fork, long block) {
    }

    /**
     * One record: where it starts and ends, its transaction id, resource manager, info bits ({@code xl_info},
     * all eight), main data and block references. {@code problem} is null unless the record's CRC verified
     * but its fragment headers could not be decoded (then {@code blocks} is empty and {@code mainData} too).
     */
    public record Record(Lsn lsn, Lsn end, long xid, int rmid, int info, byte[] mainData, List<BlockRef> blocks, String problem) {

        /** A commit or abort (of a transaction or a prepared one): its time is {@code recovery_target_time}'s clock. */
        public boolean isTransactionEnd() {
            if (rmid != RM_XACT_ID) {
                return false;
            }
            int op = info & XLOG_XACT_OPMASK;
            return op == XLOG_XACT_COMMIT || op == XLOG_XACT_ABORT || op == XLOG_XACT_COMMIT_PREPARED || op == XLOG_XACT_ABORT_PREPARED;
        }

        public boolean isCommit() {
            int op = info & XLOG_XACT_OPMASK;
            return rmid == RM_XACT_ID && (op == XLOG_XACT_COMMIT || op == XLOG_XACT_COMMIT_PREPARED);
        }

        public boolean isRestorePoint() {
            return rmid == RM_XLOG_ID && (info & 0xF0) == XLOG_RESTORE_POINT;
        }

        public boolean isSwitch() {
            return rmid == RM_XLOG_ID && (info & 0xF0) == XLOG_SWITCH;
        }

        /** {@code XLR_SPECIAL_REL_UPDATE}: the record changes relation files in a way its block references do not show. */
        public boolean isSpecialRelUpdate() {
            return (info & XLR_SPECIAL_REL_UPDATE) != 0;
        }

        /** {@code xact_time} of a commit or abort, or {@code rp_time} of a restore point: the first 8 bytes of main data. */
        public java.time.Instant time() {
            long micros = ByteBuffer.wrap(mainData, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong() + POSTGRES_EPOCH_MICROS;
            return java.time.Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
        }

        /** {@code rp_name} of a restore point (after its 8-byte time, NUL-terminated, at most 64 bytes). */
        public String restorePointName() {
            int end = 8;
            while (end < mainData.length && end < 8 + 64 && mainData[end] != 0) {
                end++;
            }
            return new String(mainData, 8, end - 8, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** Why reading a segment stopped. */
    public enum End {
        /** Every record starting in the segment was read; the next one starts in the next segment. */
        SEGMENT_END,
        /** An {@code XLOG_SWITCH} record: the rest of the segment holds no WAL. */
        SWITCH,
        /** Valid WAL stops inside the segment ({@code detail} says where and why). */
        END_OF_WAL,
        /** The last record starting in the segment continues into a segment the caller did not supply. */
        NEEDS_NEXT
    }

    /** The records starting in one segment, in order, and why reading stopped. */
    public record Segment(List<Record> records, End end, String detail) {
    }

    /** The segments after the one being read, for the record that crosses its end. */
    @FunctionalInterface
    public interface Continuation {

        /**
         * The first {@code bytes} bytes (fewer if the file is shorter) of the {@code k}-th segment after the one
         * being read ({@code k >= 1}), or null when that segment is not available.
         */
        byte[] head(int k, int bytes) throws java.io.IOException;

        Continuation NONE = (k, bytes) -> null;
    }

    private WalRecordReader() {
    }

    /**
     * The valid records that start in this segment and end in it, in order.
     *
     * @param segment       the whole segment file
     * @param segmentStart  the WAL location of its first byte (from its name)
     * @param pgMajor       the server's major (decides the compressed-image flag of block headers)
     */
    public static List<Record> read(byte[] segment, Lsn segmentStart, int pgMajor) {
        try {
            return read(segment, segmentStart, pgMajor, Continuation.NONE).records();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e); // Continuation.NONE does no I/O
        }
    }

    /**
     * The valid records that start in this segment, the one crossing its end included when {@code next} supplies
     * the segments it continues into (their pages are checked to carry the expected address and the
     * continuation flag; {@code XLP_FIRST_IS_OVERWRITE_CONTRECORD} there means the crossing record was abandoned
     * by a crash recovery and is not part of the WAL).
     */
    public static Segment read(byte[] segment, Lsn segmentStart, int pgMajor, Continuation next) throws java.io.IOException {
        PageStream in = new PageStream(segment, segmentStart.value(), next);
        try {
            return read(in, pgMajor);
        } finally {
            giveBack(in.bytes);
        }
    }

    private static Segment read(PageStream in, int pgMajor) throws java.io.IOException {
        List<Record> out = new ArrayList<>();
        long pos = align(Integer.toUnsignedLong(in.firstRemaining));
        while (true) {
            if (pos >= in.ownLength) {
                return in.ownComplete ? new Segment(out, End.SEGMENT_END, "")
                        : new Segment(out, End.END_OF_WAL, "page " + in.ownPages + " of the segment has the address of another position");
            }
            int at = (int) pos;
            String shortOf = in.ensure(at + SIZE_OF_RECORD);
            if (shortOf != null) {
                return in.stop(out, at, shortOf);
            }
            long total = Integer.toUnsignedLong(in.buffer().getInt(at));
            if (total == 0) {
                return new Segment(out, End.END_OF_WAL, "no record at " + in.lsnOf(at) + " (zero length)");
            }
            if (total < SIZE_OF_RECORD || total > MAX_RECORD) {
                return new Segment(out, End.END_OF_WAL, "invalid record length " + total + " at " + in.lsnOf(at));
            }
            shortOf = in.ensure(at + total);
            if (shortOf != null) {
                return in.stop(out, at, shortOf);
            }
            byte[] stream = in.bytes;
            CRC32C crc = new CRC32C();
            crc.update(stream, at + SIZE_OF_RECORD, (int) total - SIZE_OF_RECORD);
            crc.update(stream, at, 20);
            if ((int) crc.getValue() != in.buffer().getInt(at + 20)) {
                return new Segment(out, End.END_OF_WAL, "record at " + in.lsnOf(at) + " fails its CRC-32C"
                        + (at + total > in.ownLength ? " (it crosses into the next segment)" : ""));
            }
            int info = Byte.toUnsignedInt(stream[at + 16]);
            int rmid = Byte.toUnsignedInt(stream[at + 17]);
            long xid = Integer.toUnsignedLong(in.buffer().getInt(at + 4));
            Record r = decode(in, at, (int) total, pgMajor, xid, rmid, info);
            out.add(r);
            if (r.isSwitch()) {
                return new Segment(out, End.SWITCH, "");
            }
            pos = align(pos + total);
        }
    }

    /**
     * The segment's pages with their headers stripped, so that records are contiguous (both header sizes are
     * multiples of 8, so MAXALIGN holds there too), followed on demand by pages of the next segments.
     */
    private static final class PageStream {
        private final long segmentStart;
        private final int segmentSize;
        private final Continuation next;
        byte[] bytes;
        int length;
        /** Where each page's payload starts in the stream, and its WAL location. */
        private int[] pageStart;
        private long[] pageLsn;
        private int pages;
        final int firstRemaining;
        final int ownLength;
        final int ownPages;
        final boolean ownComplete;
        /** Segments after this one appended so far, and pages of the last one. */
        private int appendedSegment;
        private int appendedPages;
        private boolean abandoned;
        private ByteBuffer view;

        PageStream(byte[] segment, long segmentStart, Continuation next) {
            this.segmentStart = segmentStart;
            this.segmentSize = segment.length;
            this.next = next;
            int total = segment.length / PAGE;
            this.bytes = borrow(segment.length + SLACK);
            this.pageStart = new int[total + 8];
            this.pageLsn = new long[total + 8];
            int p = 0;
            for (; p < total; p++) {
                int base = p * PAGE;
                if (le(segment, base + 8) != segmentStart + base) {
                    break; // a page that was never written in this life of the file
                }
                addPage(segment, base, p == 0 ? LONG_HEADER : SHORT_HEADER, segmentStart + base);
            }
            this.firstRemaining = total > 0 && p > 0 ? leInt(segment, 16) : 0;
            this.ownLength = length;
            this.ownPages = p;
            this.ownComplete = p == total;
        }

        private void addPage(byte[] source, int base, int header, long pageAddress) {
            if (pages == pageStart.length) {
                pageStart = java.util.Arrays.copyOf(pageStart, pages * 2);
                pageLsn = java.util.Arrays.copyOf(pageLsn, pages * 2);
            }
            int payload = PAGE - header;
            if (length + payload > bytes.length) {
                bytes = java.util.Arrays.copyOf(bytes, Math.max(bytes.length + bytes.length / 4, length + payload + SLACK));
            }
            pageStart[pages] = length;
            pageLsn[pages] = pageAddress + header;
            pages++;
            System.arraycopy(source, base + header, bytes, length, payload);
            length += payload;
        }

        /**
         * The stream for absolute little-endian reads (one view per backing array; reads are kept below
         * {@code length} by {@link #ensure}).
         */
        ByteBuffer buffer() {
            if (view == null || view.array() != bytes) {
                view = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            }
            return view;
        }

        Lsn lsnOf(int streamPos) {
            int i = java.util.Arrays.binarySearch(pageStart, 0, pages, streamPos);
            int page = i >= 0 ? i : -i - 2;
            return Lsn.of(pageLsn[page] + (streamPos - pageStart[page]));
        }

        /** Makes the stream at least {@code want} bytes long from the next segments; null when done, else why not. */
        String ensure(long want) throws java.io.IOException {
            while (length < want) {
                if (!ownComplete) {
                    return "the segment's WAL ends at page " + ownPages;
                }
                if (abandoned) {
                    return "abandoned";
                }
                int k = appendedPages == 0 || appendedPages == segmentSize / PAGE ? appendedSegment + 1 : appendedSegment;
                int firstPage = k == appendedSegment ? appendedPages : 0;
                long missing = want - length;
                int pagesWanted = firstPage + 1 + (int) Math.max(0, (missing - (PAGE - (firstPage == 0 ? LONG_HEADER : SHORT_HEADER)) + PAGE - SHORT_HEADER - 1) / (PAGE - SHORT_HEADER));
                int bytesWanted = (int) Math.min(segmentSize, (long) pagesWanted * PAGE);
                byte[] head = next.head(k, bytesWanted);
                if (head == null || head.length < (firstPage + 1) * PAGE) {
                    return "needs " + (head == null ? "" : "more of ") + "the segment " + k + " after this one";
                }
                long base = segmentStart + (long) k * segmentSize;
                int got = Math.min(head.length, bytesWanted) / PAGE;
                for (int p = firstPage; p < got; p++) {
                    int off = p * PAGE;
                    int pageInfo = Short.toUnsignedInt((short) (head[off + 2] & 0xFF | (head[off + 3] & 0xFF) << 8));
                    if (le(head, off + 8) != base + off) {
                        return "bad page address in the segment " + k + " after this one";
                    }
                    if (p == 0 && (pageInfo & XLP_FIRST_IS_OVERWRITE_CONTRECORD) != 0) {
                        abandoned = true;
                        return "abandoned";
                    }
                    if ((pageInfo & XLP_FIRST_IS_CONTRECORD) == 0) {
                        return "page " + p + " of the segment " + k + " after this one does not continue the record";
                    }
                    addPage(head, off, p == 0 ? LONG_HEADER : SHORT_HEADER, base + off);
                    appendedSegment = k;
                    appendedPages = p + 1;
                }
            }
            return null;
        }

        Segment stop(List<Record> out, int at, String why) {
            if (abandoned) {
                return new Segment(out, End.END_OF_WAL, "the record at " + lsnOf(at)
                        + " was abandoned (the next segment starts with XLP_FIRST_IS_OVERWRITE_CONTRECORD)");
            }
            if (!ownComplete) {
                return new Segment(out, End.END_OF_WAL, "the record at " + lsnOf(at) + " is cut off: " + why);
            }
            if (why.startsWith("needs")) {
                return new Segment(out, End.NEEDS_NEXT, "the record at " + lsnOf(at) + " " + why);
            }
            return new Segment(out, End.END_OF_WAL, "the record at " + lsnOf(at) + " crosses into the next segment, but " + why);
        }
    }

    /**
     * Room past a segment's payload for the record crossing its end (most are small); a longer one grows the
     * stream by a quarter at a time.
     */
    private static final int SLACK = 256 * 1024;

    /**
     * The stream buffer of the last read on this thread, kept for the next (a sweep reads segment after segment:
     * a fresh 16 MiB array each time costs more than reading the records). Soft, so memory pressure frees it;
     * taken out while in use, so a nested read gets its own. Records never point into it.
     */
    private static final ThreadLocal<java.lang.ref.SoftReference<byte[]>> SPARE = new ThreadLocal<>();

    private static byte[] borrow(int size) {
        java.lang.ref.SoftReference<byte[]> ref = SPARE.get();
        byte[] spare = ref == null ? null : ref.get();
        SPARE.remove();
        return spare != null && spare.length >= size && spare.length <= 2 * size ? spare : new byte[size];
    }

    private static void giveBack(byte[] buffer) {
        SPARE.set(new java.lang.ref.SoftReference<>(buffer));
    }

    private static long le(byte[] b, int at) {
        return (leInt(b, at) & 0xFFFF_FFFFL) | ((long) leInt(b, at + 4) << 32);
    }

    private static int leInt(byte[] b, int at) {
        return (b[at] & 0xFF) | (b[at + 1] & 0xFF) << 8 | (b[at + 2] & 0xFF) << 16 | (b[at + 3] & 0xFF) << 24;
    }

    /**
     * Walks the fragment headers after the record header ({@code DecodeXLogRecord}'s walk): block references,
     * replication origin, top-level xid, then the main data's length. The walk stops where only the blocks'
     * data (their data and images) and the main data remain: those bytes are not headers, whatever they look like.
     */
    private static Record decode(PageStream in, int at, int total, int pgMajor, long xid, int rmid, int info) {
        byte[] stream = in.bytes;
        ByteBuffer s = in.buffer();
        Lsn lsn = in.lsnOf(at);
        Lsn end = in.lsnOf(at + total - 1).plus(1);
        int p = at + SIZE_OF_RECORD;
        int recordEnd = at + total;
        long mainLength = 0;
        long dataTotal = 0;
        List<BlockRef> blocks = new ArrayList<>(2);
        long[] rel = null;
        String problem = null;
        try {
            while (recordEnd - p > dataTotal) {
                int id = Byte.toUnsignedInt(stream[p++]);
                if (id == 255) {
                    mainLength = Byte.toUnsignedInt(stream[p]);
                    p += 1;
                    dataTotal += mainLength;
                    break;
                } else if (id == 254) {
                    mainLength = Integer.toUnsignedLong(s.getInt(p));
                    p += 4;
                    dataTotal += mainLength;
                    break;
                } else if (id == 253) {
                    p += 2; // replication origin
                } else if (id == 252) {
                    p += 4; // top-level transaction id (14+)
                } else if (id <= XLR_MAX_BLOCK_ID) {
                    int forkFlags = Byte.toUnsignedInt(stream[p]);
                    dataTotal += Short.toUnsignedInt(s.getShort(p + 1));
                    p += 1 + 2; // fork_flags, data_length
                    if ((forkFlags & BKPBLOCK_HAS_IMAGE) != 0) {
                        dataTotal += Short.toUnsignedInt(s.getShort(p)); // bimg_len
                        int bimgInfo = Byte.toUnsignedInt(stream[p + 4]);
                        p += 5; // bimg_len, hole_offset, bimg_info
                        boolean compressed = pgMajor <= 14 ? (bimgInfo & 0x02) != 0 : (bimgInfo & 0x1C) != 0;
                        if ((bimgInfo & BKPIMAGE_HAS_HOLE) != 0 && compressed) {
                            p += 2; // hole_length
                        }
                    }
                    if ((forkFlags & BKPBLOCK_SAME_REL) == 0) {
                        rel = new long[] {Integer.toUnsignedLong(s.getInt(p)), Integer.toUnsignedLong(s.getInt(p + 4)),
                            Integer.toUnsignedLong(s.getInt(p + 8))};
                        p += 12; // RelFileLocator
                    } else if (rel == null) {
                        problem = "block " + id + " refers to the previous block's relation, but there is none";
                        break;
                    }
                    blocks.add(new BlockRef(rel[0], rel[1], rel[2], forkFlags & BKPBLOCK_FORK_MASK, Integer.toUnsignedLong(s.getInt(p))));
                    p += 4; // block number
                } else {
                    problem = "unknown fragment id " + id;
                    break;
                }
            }
            if (problem == null && recordEnd - p != dataTotal) {
                problem = "fragment lengths do not add up to the record's length";
            }
        } catch (IndexOutOfBoundsException e) {
            problem = "fragment headers run past the record's end";
        }
        if (problem != null) {
            return new Record(lsn, end, xid, rmid, info, new byte[0], List.of(), "record at " + lsn + ": " + problem);
        }
        byte[] main = new byte[(int) mainLength];
        System.arraycopy(stream, recordEnd - (int) mainLength, main, 0, (int) mainLength);
        return new Record(lsn, end, xid, rmid, info, main, blocks, null);
    }

    private static long align(long n) {
        return (n + 7) & ~7L;
    }
}
