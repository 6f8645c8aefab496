package dev.cellar.postgres;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PostgreSQL WAL location ({@code XLogRecPtr}, {@code pg_lsn}): an unsigned 64-bit byte position in
 * the write-ahead log, written as two hexadecimal halves, e.g. {@code 16/B374D848}.
 *
 * <p>The value is unsigned: locations at or above {@code 8000000/0} are negative as a Java {@code long}
 * but still order after smaller ones.
 */
public record Lsn(long value) implements Comparable<Lsn> {

    /** {@code 0/0}, the invalid location ({@code InvalidXLogRecPtr}). */
    public static final Lsn ZERO = new Lsn(0);

    private static final Pattern TEXT = Pattern.compile("([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})");

    public static Lsn of(long value) {
        return value == 0 ? ZERO : new Lsn(value);
    }

    /**
     * Parses the text form PostgreSQL prints ({@code %X/%X}); like {@code pg_lsn} input it accepts
     * either letter case and leading zeros, each half at most 8 hexadecimal digits.
     */
    public static Lsn parse(String text) {
        Matcher m = text == null ? null : TEXT.matcher(text);
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("not a WAL location: " + (text == null ? "null" : "\"" + text + "\"")
                    + " (expected X/X in hexadecimal, e.g. 16/B374D848)");
        }
        long high = Long.parseLong(m.group(1), 16);
        long low = Long.parseLong(m.group(2), 16);
        return of(high << 32 | low);
    }

    /** This location moved forward (or, for a negative argument, back) by a number of bytes. */
    public Lsn plus(long bytes) {
        long result = value + bytes;
        if (bytes >= 0 ? Long.compareUnsigned(result, value) < 0 : Long.compareUnsigned(result, value) > 0) {
            throw new ArithmeticException("WAL location out of range: " + this + " plus " + bytes);
        }
        return of(result);
    }

    /** The number of the WAL segment holding this location ({@code XLByteToSeg}). */
    public long segmentNumber(long walSegmentSize) {
        return Long.divideUnsigned(value, WalSegmentName.checkSegmentSize(walSegmentSize));
    }

    /** The byte offset of this location within its WAL segment ({@code XLogSegmentOffset}). */
    public long offsetInSegment(long walSegmentSize) {
        return value & (WalSegmentName.checkSegmentSize(walSegmentSize) - 1);
    }

    @Override
    public int compareTo(Lsn other) {
        return Long.compareUnsigned(value, other.value);
    }

    /** PostgreSQL's text form: upper-case hexadecimal halves without leading zeros, e.g. {@code 0/2000028}. */
    @Override
    public String toString() {
        return Long.toHexString(value >>> 32).toUpperCase() + "/" + Long.toHexString(value & 0xFFFF_FFFFL).toUpperCase();
    }
}
