package dev.cellar.postgres;

import java.util.Comparator;
import java.util.regex.Pattern;

/**
 * The name of a WAL segment file, {@code TTTTTTTTLLLLLLLLSSSSSSSS}: timeline, "log" and "seg" as eight
 * upper-case hexadecimal digits each, as PostgreSQL's {@code XLogFileName} forms it. For segment number
 * {@code n} and segment size {@code s}, {@code log = n / (0x100000000 / s)} and {@code seg = n % (0x100000000 / s)}.
 *
 * <p>The name alone does not tell the segment size; the methods that convert to and from segment numbers and
 * locations take it ({@code wal_segment_size}, a power of two from 1 MiB to 1 GiB, 16 MiB by default).
 * Timelines are limited to 1..2<sup>31</sup>-1 (PostgreSQL allows up to 2<sup>32</sup>-1, never reached in practice).
 */
public record WalSegmentName(int timeline, long log, long seg) implements Comparable<WalSegmentName> {

    public static final long MIN_SEGMENT_SIZE = 1L << 20;
    public static final long MAX_SEGMENT_SIZE = 1L << 30;
    public static final long DEFAULT_SEGMENT_SIZE = 16L << 20;

    private static final long XLOG_ID_SPAN = 0x1_0000_0000L;
    private static final Pattern NAME = Pattern.compile("[0-9A-F]{24}");
    private static final Comparator<WalSegmentName> ORDER = Comparator.comparingInt(WalSegmentName::timeline)
            .thenComparingLong(WalSegmentName::log)
            .thenComparingLong(WalSegmentName::seg);

    public WalSegmentName {
        if (timeline < 1) {
            throw new IllegalArgumentException("WAL timeline must be at least 1, not " + Integer.toUnsignedString(timeline));
        }
        if (log < 0 || log > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("WAL log id out of range (0 to FFFFFFFF): " + log);
        }
        if (seg < 0 || seg > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("WAL segment id out of range (0 to FFFFFFFF): " + seg);
        }
    }

    /**
     * Parses a segment file name: exactly 24 upper-case hexadecimal digits with a timeline of at least 1.
     * Names with a suffix ({@code .partial}, {@code .backup}, {@code .history}) are not segment names.
     */
    public static WalSegmentName parse(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("not a WAL segment file name: " + (name == null ? "null" : "\"" + name + "\"")
                    + " (expected 24 upper-case hexadecimal digits, e.g. 000000010000000000000002)");
        }
        long timeline = Long.parseLong(name.substring(0, 8), 16);
        if (timeline < 1 || timeline > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("not a WAL segment file name: \"" + name + "\" (timeline " + name.substring(0, 8)
                    + " is out of range: it must be 1 to 7FFFFFFF)");
        }
        return new WalSegmentName((int) timeline, Long.parseLong(name.substring(8, 16), 16), Long.parseLong(name.substring(16), 16));
    }

    /** Whether {@link #parse} accepts the name. */
    public static boolean isSegmentName(String name) {
        return name != null && NAME.matcher(name).matches() && !name.startsWith("00000000") && name.charAt(0) < '8';
    }

    /** The segment of the given timeline that holds a WAL location ({@code XLByteToSeg} then {@code XLogFileName}). */
    public static WalSegmentName of(int timeline, Lsn lsn, long walSegmentSize) {
        return ofSegmentNumber(timeline, lsn.segmentNumber(walSegmentSize), walSegmentSize);
    }

    /** The segment with the given number ({@code XLogSegNo}) on a timeline. */
    public static WalSegmentName ofSegmentNumber(int timeline, long segmentNumber, long walSegmentSize) {
        long perId = segmentsPerXLogId(walSegmentSize);
        if (segmentNumber < 0) {
            throw new IllegalArgumentException("WAL segment number out of range: " + Long.toUnsignedString(segmentNumber));
        }
        return new WalSegmentName(timeline, segmentNumber / perId, segmentNumber % perId);
    }

    /** The segment number ({@code XLogSegNo}) of this file for the given segment size. */
    public long segmentNumber(long walSegmentSize) {
        long perId = segmentsPerXLogId(walSegmentSize);
        if (seg >= perId) {
            throw new IllegalArgumentException("WAL segment " + this + " cannot exist with " + describe(walSegmentSize)
                    + " segments: its segment id must be below " + Long.toHexString(perId).toUpperCase());
        }
        return log * perId + seg;
    }

    /** The first WAL location in this segment ({@code XLogSegNoOffsetToRecPtr} with offset 0). */
    public Lsn startLsn(long walSegmentSize) {
        return Lsn.of(segmentNumber(walSegmentSize) * walSegmentSize);
    }

    /** The following segment on the same timeline. */
    public WalSegmentName next(long walSegmentSize) {
        long n = segmentNumber(walSegmentSize) + 1;
        if (n >= XLOG_ID_SPAN * segmentsPerXLogId(walSegmentSize)) {
            throw new IllegalArgumentException("WAL segment " + this + " is the last possible one");
        }
        return ofSegmentNumber(timeline, n, walSegmentSize);
    }

    /** The first 16 characters, {@code TTTTTTTTLLLLLLLL}: the directory a repository files this segment under. */
    public String timelineLog() {
        return toString().substring(0, 16);
    }

    @Override
    public int compareTo(WalSegmentName other) {
        return ORDER.compare(this, other);
    }

    /** The 24-character file name. */
    @Override
    public String toString() {
        return String.format("%08X%08X%08X", timeline, log, seg);
    }

    /** How many segments one "log id" spans: {@code 0x100000000 / walSegmentSize} ({@code XLogSegmentsPerXLogId}). */
    public static long segmentsPerXLogId(long walSegmentSize) {
        return XLOG_ID_SPAN / checkSegmentSize(walSegmentSize);
    }

    /** Returns the size if PostgreSQL accepts it as {@code wal_segment_size} (a power of two, 1 MiB to 1 GiB), else throws. */
    public static long checkSegmentSize(long walSegmentSize) {
        if (walSegmentSize < MIN_SEGMENT_SIZE || walSegmentSize > MAX_SEGMENT_SIZE || Long.bitCount(walSegmentSize) != 1) {
            throw new IllegalArgumentException("invalid WAL segment size " + walSegmentSize
                    + " bytes: it must be a power of two from 1 MiB (1048576) to 1 GiB (1073741824)");
        }
        return walSegmentSize;
    }

    private static String describe(long walSegmentSize) {
        return (walSegmentSize >> 20) + " MiB";
    }
}
