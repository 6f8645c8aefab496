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

    /** {@code XLOG_RESTORE_POINT} (RM_XLOG_ID) and the transaction record kinds ({@code xact.h}). */
    public static final int XLOG_RESTORE_POINT = 0x70;
    public static final int XLOG_XACT_OPMASK = 0x70;
    public static final int XLOG_XACT_COMMIT = 0x00;
    public static final int XLOG_XACT_ABORT = 0x20;
    public static final int XLOG_XACT_COMMIT_PREPARED = 0x30;
    public static final int XLOG_XACT_ABORT_PREPARED = 0x40;

    private static final int SIZE_OF_RECORD = 24;
    private static final int SHORT_HEADER = 24;
    private static final int LONG_HEADER = 40;
    private static final int XLR_MAX_BLOCK_ID = 32;
    private static final int BKPBLOCK_HAS_IMAGE = 0x10;
    private static final int BKPBLOCK_SAME_REL = 0x80;
    private static final int BKPIMAGE_HAS_HOLE = 0x01;
    /** Since PostgreSQL 2000-01-01, in microseconds from the Unix epoch. */
    private static final long POSTGRES_EPOCH_MICROS = 946_684_800_000_000L;

    /** One record: where it starts, its transaction id, resource manager, info bits and main data. */
    public record Record(Lsn lsn, long xid, int rmid, int info, byte[] mainData) {

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
        int pageSize = WalPageHeader.XLOG_BLCKSZ;
        // Strip page headers: records are contiguous in the remaining bytes, and since both header
        // sizes are multiples of 8, MAXALIGN holds there too. Remember where each page's payload starts.
        int pages = segment.length / pageSize;
        byte[] stream = new byte[segment.length];
        long[] payloadLsn = new long[pages];
        int[] payloadStart = new int[pages];
        int length = 0;
        int firstRemaining = 0;
        for (int p = 0; p < pages; p++) {
            int base = p * pageSize;
            ByteBuffer b = ByteBuffer.wrap(segment, base, SHORT_HEADER).order(ByteOrder.LITTLE_ENDIAN);
            long pageAddress = b.getLong(base + 8);
            if (pageAddress != segmentStart.value() + base) {
                break; // a page that was never written in this life of the file
            }
            int header = p == 0 ? LONG_HEADER : SHORT_HEADER;
            if (p == 0) {
                firstRemaining = b.getInt(base + 16);
            }
            payloadStart[p] = length;
            payloadLsn[p] = segmentStart.value() + base + header;
            System.arraycopy(segment, base + header, stream, length, pageSize - header);
            length += pageSize - header;
        }
        List<Record> out = new ArrayList<>();
        long pos = align(Integer.toUnsignedLong(firstRemaining));
        ByteBuffer s = ByteBuffer.wrap(stream, 0, length).order(ByteOrder.LITTLE_ENDIAN);
        while (pos + SIZE_OF_RECORD <= length) {
            int at = (int) pos;
            long total = Integer.toUnsignedLong(s.getInt(at));
            if (total < SIZE_OF_RECORD || at + total > length) {
                break; // end of valid WAL, or a record that continues into the next segment
            }
            CRC32C crc = new CRC32C();
            crc.update(stream, at + SIZE_OF_RECORD, (int) total - SIZE_OF_RECORD);
            crc.update(stream, at, 20);
            if ((int) crc.getValue() != s.getInt(at + 20)) {
                break;
            }
            int info = Byte.toUnsignedInt(stream[at + 16]);
            int rmid = Byte.toUnsignedInt(stream[at + 17]);
            long xid = Integer.toUnsignedLong(s.getInt(at + 4));
            byte[] main = mainData(s, stream, at, (int) total, pgMajor);
            out.add(new Record(Lsn.of(lsnOf(at, payloadStart, payloadLsn)), xid, rmid, info, main));
            pos = align(pos + total);
        }
        return out;
    }

    private static long lsnOf(int streamPos, int[] payloadStart, long[] payloadLsn) {
        int payload = WalPageHeader.XLOG_BLCKSZ - SHORT_HEADER;
        int firstPayload = WalPageHeader.XLOG_BLCKSZ - LONG_HEADER;
        int page = streamPos < firstPayload ? 0 : 1 + (streamPos - firstPayload) / payload;
        return payloadLsn[page] + (streamPos - payloadStart[page]);
    }

    /**
     * Walks the fragment headers after the record header to find the main data's length; empty if there is none.
     * As PostgreSQL's {@code DecodeXLogRecord}, the walk stops where only the blocks' data (their data and images)
     * remains: those bytes are not headers, whatever they look like.
     */
    private static byte[] mainData(ByteBuffer s, byte[] stream, int at, int total, int pgMajor) {
        int p = at + SIZE_OF_RECORD;
        int end = at + total;
        long mainLength = 0;
        long blockData = 0;
        while (end - p > blockData) {
            int id = Byte.toUnsignedInt(stream[p++]);
            if (id == 255) {
                mainLength = Byte.toUnsignedInt(stream[p]);
                break;
            } else if (id == 254) {
                mainLength = Integer.toUnsignedLong(s.getInt(p));
                break;
            } else if (id == 253) {
                p += 2; // replication origin
            } else if (id == 252) {
                p += 4; // top-level transaction id (14+)
            } else if (id <= XLR_MAX_BLOCK_ID) {
                int forkFlags = Byte.toUnsignedInt(stream[p]);
                blockData += Short.toUnsignedInt(s.getShort(p + 1));
                p += 1 + 2; // fork_flags, data_length
                if ((forkFlags & BKPBLOCK_HAS_IMAGE) != 0) {
                    blockData += Short.toUnsignedInt(s.getShort(p)); // bimg_len
                    int bimgInfo = Byte.toUnsignedInt(stream[p + 4]);
                    p += 5; // bimg_len, hole_offset, bimg_info
                    boolean compressed = pgMajor <= 14 ? (bimgInfo & 0x02) != 0 : (bimgInfo & 0x1C) != 0;
                    if ((bimgInfo & BKPIMAGE_HAS_HOLE) != 0 && compressed) {
                        p += 2; // hole_length
                    }
                }
                if ((forkFlags & BKPBLOCK_SAME_REL) == 0) {
                    p += 12; // RelFileLocator
                }
                p += 4; // block number
            } else {
                return new byte[0]; // not a record this reader understands
            }
        }
        if (mainLength <= 0 || mainLength > total) {
            return new byte[0];
        }
        byte[] main = new byte[(int) mainLength];
        System.arraycopy(stream, end - (int) mainLength, main, 0, (int) mainLength);
        return main;
    }

    private static long align(long n) {
        return (n + 7) & ~7L;
    }
}
