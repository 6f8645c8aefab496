package dev.cellar.wal;

import dev.cellar.postgres.Lsn;
import dev.cellar.postgres.WalSegmentName;
import dev.cellar.wal.WalValidationException.Reason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The long page header that starts every WAL segment file ({@code XLogLongPageHeaderData} in PostgreSQL's
 * {@code src/include/access/xlog_internal.h}), and the checks that a spooled segment belongs where its name
 * and the cluster say.
 *
 * <p>Layout, native byte order (little-endian on x86-64 and aarch64, the platforms Cellar supports), with
 * {@code MAXALIGN} 8:
 * <pre>
 *  offset size field
 *   0     2    xlp_magic        XLOG_PAGE_MAGIC, the WAL format version
 *   2     2    xlp_info         flag bits; XLP_LONG_HEADER = 0x0002
 *   4     4    xlp_tli          timeline of the first record on the page
 *   8     8    xlp_pageaddr     WAL location of this page (8-aligned, so no padding before it)
 *  16     4    xlp_rem_len      bytes of a record continued from the previous page
 *  20     4    (padding: XLogPageHeaderData is 24 bytes, SizeOfXLogShortPHD = MAXALIGN(20) = 24)
 *  24     8    xlp_sysid        system identifier from pg_control
 *  32     4    xlp_seg_size     wal_segment_size, "just as a cross-check"
 *  36     4    xlp_xlog_blcksz  XLOG_BLCKSZ, "just as a cross-check"
 * </pre>
 * {@code SizeOfXLogLongPHD} is {@code MAXALIGN(40)} = 40.
 */
public record WalPageHeader(int magic, int info, int timeline, long pageAddress, int remainingLength, long systemIdentifier,
                            int segmentSize, int blockSize) {

    /** {@code SizeOfXLogLongPHD}: the bytes {@link #parse} needs. */
    public static final int LONG_HEADER_SIZE = 40;
    /** {@code XLP_LONG_HEADER} in {@code xlp_info}. */
    public static final int XLP_LONG_HEADER = 0x0002;
    /** {@code XLOG_BLCKSZ} of standard builds. */
    public static final int XLOG_BLCKSZ = 8192;

    /**
     * {@code XLOG_PAGE_MAGIC} of each supported major. Checked against the WAL of real 13, 15 and 17 servers
     * (WalPageHeaderIT); 14, 16 and 18 from copies of their {@code xlog_internal.h}.
     */
    private static final Map<Integer, Integer> MAGIC_BY_MAJOR = Map.of(
            13, 0xD106,
            14, 0xD10D,
            15, 0xD110,
            16, 0xD113,
            17, 0xD116,
            18, 0xD118);
    private static final Map<Integer, Integer> MAJOR_BY_MAGIC = Map.of(
            0xD106, 13,
            0xD10D, 14,
            0xD110, 15,
            0xD113, 16,
            0xD116, 17,
            0xD118, 18);

    /** Reads the long page header from the start of a segment's first page; needs at least 40 bytes. */
    public static WalPageHeader parse(byte[] firstPage) {
        int length = firstPage == null ? 0 : firstPage.length;
        if (length < LONG_HEADER_SIZE) {
            throw new WalValidationException(Reason.TRUNCATED, truncated(length));
        }
        ByteBuffer b = ByteBuffer.wrap(firstPage, 0, LONG_HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        return new WalPageHeader(
                Short.toUnsignedInt(b.getShort(0)),
                Short.toUnsignedInt(b.getShort(2)),
                b.getInt(4),
                b.getLong(8),
                b.getInt(16),
                b.getLong(24),
                b.getInt(32),
                b.getInt(36));
    }

    private static String truncated(int length) {
        return "truncated: " + length + " bytes, a WAL page header needs " + LONG_HEADER_SIZE;
    }

    /** Whether {@code xlp_info} has {@code XLP_LONG_HEADER}, as the first page of every segment must. */
    public boolean isLongHeader() {
        return (info & XLP_LONG_HEADER) != 0;
    }

    /** {@code xlp_pageaddr} as a WAL location. */
    public Lsn pageLsn() {
        return Lsn.of(pageAddress);
    }

    /** {@code xlp_sysid} as PostgreSQL prints it (unsigned decimal), as the repository stores it. */
    public String systemIdentifierText() {
        return Long.toUnsignedString(systemIdentifier);
    }

    /** The {@code XLOG_PAGE_MAGIC} of a PostgreSQL major version; throws for majors Cellar does not support. */
    public static int magicFor(int pgMajor) {
        Integer magic = MAGIC_BY_MAJOR.get(pgMajor);
        if (magic == null) {
            throw new IllegalArgumentException("unsupported PostgreSQL major " + pgMajor + ": Cellar knows the WAL page magic of PostgreSQL 13 to 18");
        }
        return magic;
    }

    /** The major version whose WAL carries this {@code XLOG_PAGE_MAGIC}, if it is one Cellar knows. */
    public static OptionalInt majorOf(int magic) {
        Integer major = MAJOR_BY_MAGIC.get(magic);
        return major == null ? OptionalInt.empty() : OptionalInt.of(major);
    }

    /**
     * Reads a file's size and first 40 bytes and {@link #validate(byte[], WalFileName, long, int, String, long) validates}
     * them; never reads more of the file.
     */
    public static WalPageHeader validate(Path file, WalFileName name, int pgMajor, String systemIdentifier, long walSegmentSize)
            throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer buf = ByteBuffer.allocate(LONG_HEADER_SIZE);
            while (buf.hasRemaining() && ch.read(buf, buf.position()) > 0) {
                // read until 40 bytes or end of file
            }
            byte[] head = new byte[buf.position()];
            buf.flip().get(head);
            return validate(head, name, size, pgMajor, systemIdentifier, walSegmentSize);
        }
    }

    /**
     * Checks that a spooled {@code SEGMENT} or {@code PARTIAL} file is a segment of the expected cluster and
     * position, from its size and the start of its first page (at least 40 bytes; more are ignored). The checks,
     * in this order (the first failing one is reported):
     * <ol>
     *   <li>{@code WRONG_SIZE}: the file is not {@code walSegmentSize} bytes. This holds for {@code .partial} files
     *       too: PostgreSQL renames the old timeline's last segment file, full-sized, to {@code .partial} at the end
     *       of archive recovery, and {@code pg_receivewal} pads its {@code .partial} to the segment size; a shorter
     *       partial file is a truncated copy.</li>
     *   <li>{@code TRUNCATED}: fewer than 40 bytes of the first page were given.</li>
     *   <li>{@code BAD_MAGIC}: {@code xlp_magic} is not {@code XLOG_PAGE_MAGIC} of {@code pgMajor}; a magic of
     *       another supported major is named as such.</li>
     *   <li>{@code NOT_LONG_HEADER}: {@code XLP_LONG_HEADER} is not set.</li>
     *   <li>{@code WRONG_SYSTEM}: {@code xlp_sysid} (as unsigned decimal text) is not {@code systemIdentifier}.</li>
     *   <li>{@code WRONG_SEGMENT_SIZE}: {@code xlp_seg_size} is not {@code walSegmentSize}, or the name's segment
     *       number cannot exist with that size.</li>
     *   <li>{@code WRONG_TIMELINE}: {@code xlp_tli} is 0 or <em>greater</em> than the name's timeline. An older
     *       timeline is accepted: at the end of archive recovery PostgreSQL creates the new timeline's first
     *       segment ({@code XLogInitNewTimeline}) by copying the parent timeline's segment up to the switch point
     *       ({@code XLogFileCopy}), so when the switch happens mid-segment (the usual case) the first page of
     *       {@code 000000020000000000000005} carries timeline 1. PostgreSQL itself never compares
     *       {@code xlp_tli} with the file name; it only requires that it never decreases from page to page
     *       ({@code XLogReaderValidatePageHeader}). Telling whether the older timeline is really the parent
     *       needs the {@code .history} file and is left to the caller.</li>
     *   <li>{@code WRONG_PAGE_ADDRESS}: {@code xlp_pageaddr} is not the name's segment start
     *       ({@link WalSegmentName#startLsn}): a file renamed, or a recycled segment never rewritten.</li>
     * </ol>
     * The magnitudes compared are those of standard builds; {@code xlp_xlog_blcksz} is parsed but not checked.
     *
     * @param firstPage        the first bytes of the file (at least 40)
     * @param name             the file's name; must be a {@code SEGMENT} or {@code PARTIAL}
     * @param fileSize         the file's size in bytes
     * @param pgMajor          the cluster's major version (13 to 18)
     * @param systemIdentifier the cluster's system identifier as unsigned decimal text
     * @param walSegmentSize   the cluster's {@code wal_segment_size} in bytes
     * @return the parsed header
     * @throws WalValidationException   when a check fails
     * @throws IllegalArgumentException when the arguments themselves are invalid (a history file name, an unsupported
     *                                  major, a malformed system identifier or segment size)
     */
    public static WalPageHeader validate(byte[] firstPage, WalFileName name, long fileSize, int pgMajor, String systemIdentifier,
                                         long walSegmentSize) {
        if (name == null || !name.holdsWal()) {
            throw new IllegalArgumentException("only WAL segments and .partial files have a page header, not " + name);
        }
        WalSegmentName.checkSegmentSize(walSegmentSize);
        int expectedMagic = magicFor(pgMajor);
        String expectedSystem = canonicalSystemIdentifier(systemIdentifier);
        WalSegmentName segment = name.segment().orElseThrow();
        String file = name.name();

        if (fileSize != walSegmentSize) {
            throw fail(Reason.WRONG_SIZE, file, fileSize + " bytes, expected " + walSegmentSize + " (wal_segment_size)"
                    + (name.kind() == WalFileName.Kind.PARTIAL ? "; PostgreSQL writes .partial files at full segment size" : ""));
        }
        if (firstPage == null || firstPage.length < LONG_HEADER_SIZE) {
            throw fail(Reason.TRUNCATED, file, truncated(firstPage == null ? 0 : firstPage.length));
        }
        WalPageHeader h = parse(firstPage);
        if (h.magic != expectedMagic) {
            throw fail(Reason.BAD_MAGIC, file, describeMagic(h, firstPage) + ", expected " + hex4(expectedMagic) + " (PostgreSQL " + pgMajor + ")");
        }
        if (!h.isLongHeader()) {
            throw fail(Reason.NOT_LONG_HEADER, file, "xlp_info " + hex4(h.info) + " lacks XLP_LONG_HEADER (0x0002): this is not the first page of a segment");
        }
        if (!h.systemIdentifierText().equals(expectedSystem)) {
            throw fail(Reason.WRONG_SYSTEM, file, "system identifier " + h.systemIdentifierText() + " is another cluster's, expected " + expectedSystem);
        }
        if (Integer.toUnsignedLong(h.segmentSize) != walSegmentSize) {
            throw fail(Reason.WRONG_SEGMENT_SIZE, file, "the page header says wal_segment_size " + Integer.toUnsignedString(h.segmentSize)
                    + ", expected " + walSegmentSize);
        }
        if (segment.seg() >= WalSegmentName.segmentsPerXLogId(walSegmentSize)) {
            throw fail(Reason.WRONG_SEGMENT_SIZE, file, "segment id " + Long.toHexString(segment.seg()).toUpperCase() + " cannot exist with "
                    + (walSegmentSize >> 20) + " MiB segments (at most " + Long.toHexString(WalSegmentName.segmentsPerXLogId(walSegmentSize) - 1).toUpperCase() + ")");
        }
        if (h.timeline == 0 || Integer.compareUnsigned(h.timeline, name.timeline()) > 0) {
            throw fail(Reason.WRONG_TIMELINE, file, "page header timeline " + Integer.toUnsignedString(h.timeline)
                    + ", expected " + name.timeline() + (h.timeline == 0 ? "" : " or one of its ancestors"));
        }
        Lsn expectedAddress = segment.startLsn(walSegmentSize);
        if (h.pageAddress != expectedAddress.value()) {
            throw fail(Reason.WRONG_PAGE_ADDRESS, file, "page address " + h.pageLsn() + describeAddress(h.pageAddress, name.timeline(), walSegmentSize)
                    + ", expected " + expectedAddress + " (the start of " + segment + ")");
        }
        return h;
    }

    private static String describeMagic(WalPageHeader h, byte[] firstPage) {
        String found = "magic " + hex4(h.magic);
        OptionalInt major = majorOf(h.magic);
        if (major.isPresent()) {
            return found + " is PostgreSQL " + major.getAsInt() + "'s";
        }
        OptionalInt swapped = majorOf(Short.toUnsignedInt(Short.reverseBytes((short) h.magic)));
        if (swapped.isPresent()) {
            return found + " is PostgreSQL " + swapped.getAsInt() + "'s byte-swapped (WAL of a big-endian server?)";
        }
        for (int i = 0; i < LONG_HEADER_SIZE; i++) {
            if (firstPage[i] != 0) {
                return found + " is no WAL page magic of PostgreSQL 13 to 18";
            }
        }
        return found + " (the header is all zeros)";
    }

    private static String describeAddress(long pageAddress, int timeline, long walSegmentSize) {
        if (pageAddress == 0 || (pageAddress & (walSegmentSize - 1)) != 0) {
            return "";
        }
        long segno = Long.divideUnsigned(pageAddress, walSegmentSize);
        return " is where " + WalSegmentName.ofSegmentNumber(timeline, segno, walSegmentSize) + " starts";
    }

    private static String canonicalSystemIdentifier(String systemIdentifier) {
        try {
            String text = systemIdentifier == null ? "" : systemIdentifier.trim();
            String canonical = Long.toUnsignedString(Long.parseUnsignedLong(text));
            if (!canonical.equals(text)) {
                throw new NumberFormatException();
            }
            return canonical;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a system identifier: " + (systemIdentifier == null ? "null" : "\"" + systemIdentifier + "\"")
                    + " (expected an unsigned 64-bit decimal number, as pg_control_system() prints it)");
        }
    }

    private static WalValidationException fail(Reason reason, String file, String detail) {
        return new WalValidationException(reason, file + ": " + detail);
    }

    private static String hex4(int value) {
        return String.format("0x%04X", value);
    }
}
