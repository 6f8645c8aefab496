package dev.cellar.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cellar.postgres.WalSegmentName;
import dev.cellar.wal.WalValidationException.Reason;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Map;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WalPageHeaderTest {

    private static final long MIB_16 = 16L << 20;
    private static final String SYSID = "7712670580890710572";
    /** A system identifier above Long.MAX_VALUE: negative as a Java long. */
    private static final String HIGH_SYSID = "18446744073709551615";
    private static final WalFileName SEG_5 = WalFileName.parse("000000010000000000000005").orElseThrow();

    /**
     * The first 40 bytes of 000000010000000000000001 as PostgreSQL 15's initdb wrote them on x86-64
     * ({@code xxd -p -l 40}); pg_controldata said system identifier 7712670580890710572, 16777216 bytes per segment.
     */
    private static final String REAL_PG15_HEADER = "10d10200010000000000000100000000" + "00000000000000002cb298a307e9086b" + "0000000100200000";

    /** A first page with a long header, built field by field at the offsets of XLogLongPageHeaderData. */
    static byte[] page(int magic, int info, int tli, long pageAddress, long sysid, int segSize) {
        ByteBuffer b = ByteBuffer.allocate(WalPageHeader.XLOG_BLCKSZ).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(0, (short) magic)
                .putShort(2, (short) info)
                .putInt(4, tli)
                .putLong(8, pageAddress)
                .putInt(16, 0x1234)
                .putLong(24, sysid)
                .putInt(32, segSize)
                .putInt(36, WalPageHeader.XLOG_BLCKSZ);
        b.putInt(40, 114); // xl_tot_len of a first record, outside the header
        return b.array();
    }

    /** A good first page for {@code name} of a PostgreSQL 15 cluster with 16 MiB segments. */
    static byte[] good(String name) {
        WalSegmentName s = WalSegmentName.parse(name.substring(0, 24));
        return page(0xD110, 0x0002, s.timeline(), s.startLsn(MIB_16).value(), Long.parseUnsignedLong(SYSID), (int) MIB_16);
    }

    private static WalPageHeader validate(byte[] page, WalFileName name) {
        return WalPageHeader.validate(page, name, MIB_16, 15, SYSID, MIB_16);
    }

    private static void assertFails(ThrowingCallable call, Reason reason, String... messageParts) {
        assertThatThrownBy(call).isInstanceOfSatisfying(WalValidationException.class, e -> {
            assertThat(e.reason()).as(e.getMessage()).isEqualTo(reason);
            assertThat(e.getMessage()).doesNotContain("\n").startsWith(messageParts.length > 0 && messageParts[0].startsWith("0000") ? messageParts[0] : "");
            for (String part : messageParts) {
                assertThat(e.getMessage()).contains(part);
            }
        });
    }

    @Test
    void parsesTheFieldsAtTheirOffsetsInARealHeader() {
        WalPageHeader h = WalPageHeader.parse(HexFormat.of().parseHex(REAL_PG15_HEADER));
        assertThat(h.magic()).isEqualTo(0xD110);
        assertThat(h.info()).isEqualTo(0x0002);
        assertThat(h.isLongHeader()).isTrue();
        assertThat(h.timeline()).isEqualTo(1);
        assertThat(h.pageAddress()).isEqualTo(0x0100_0000L);
        assertThat(h.pageLsn()).hasToString("0/1000000");
        assertThat(h.remainingLength()).isZero();
        assertThat(h.systemIdentifierText()).isEqualTo(SYSID);
        assertThat(h.segmentSize()).isEqualTo(16 << 20);
        assertThat(h.blockSize()).isEqualTo(8192);
        WalFileName first = WalFileName.parse("000000010000000000000001").orElseThrow();
        assertThat(WalPageHeader.validate(HexFormat.of().parseHex(REAL_PG15_HEADER), first, MIB_16, 15, SYSID, MIB_16)).isEqualTo(h);
    }

    @Test
    void parsesASyntheticHeader() {
        WalPageHeader h = WalPageHeader.parse(page(0xD116, 0x0003, 7, 0x1_2300_0000L, Long.parseUnsignedLong(HIGH_SYSID), 1 << 30));
        assertThat(h).isEqualTo(new WalPageHeader(0xD116, 3, 7, 0x1_2300_0000L, 0x1234, -1L, 1 << 30, 8192));
        assertThat(h.systemIdentifierText()).isEqualTo(HIGH_SYSID);
        assertThat(h.pageLsn()).hasToString("1/23000000");
    }

    @Test
    void parsingNeedsFortyBytes() {
        assertThat(WalPageHeader.parse(new byte[40]).magic()).isZero();
        assertFails(() -> WalPageHeader.parse(new byte[39]), Reason.TRUNCATED, "truncated: 39 bytes, a WAL page header needs 40");
        assertFails(() -> WalPageHeader.parse(new byte[0]), Reason.TRUNCATED, "truncated: 0 bytes, a WAL page header needs 40");
        assertFails(() -> WalPageHeader.parse(null), Reason.TRUNCATED, "truncated: 0 bytes");
    }

    @Test
    void acceptsAGoodSegmentAndItsPartial() {
        assertThat(validate(good("000000010000000000000005"), SEG_5).timeline()).isEqualTo(1);
        WalFileName partial = WalFileName.parse("000000010000000000000005.partial").orElseThrow();
        assertThat(validate(good("000000010000000000000005"), partial).pageLsn()).hasToString("0/5000000");
        WalFileName far = WalFileName.parse("00000003000000A2000000FE").orElseThrow();
        assertThat(validate(good("00000003000000A2000000FE"), far).pageLsn()).hasToString("A2/FE000000");
        // only the first 40 bytes matter
        assertThat(validate(java.util.Arrays.copyOf(good("000000010000000000000005"), 40), SEG_5)).isNotNull();
    }

    @Test
    void acceptsASystemIdentifierAboveLongMaxValue() {
        byte[] p = page(0xD110, 2, 1, 0x500_0000L, Long.parseUnsignedLong(HIGH_SYSID), (int) MIB_16);
        assertThat(WalPageHeader.validate(p, SEG_5, MIB_16, 15, HIGH_SYSID, MIB_16).systemIdentifier()).isEqualTo(-1L);
    }

    @Test
    void acceptsOtherSegmentSizes() {
        long gib = 1L << 30;
        WalFileName name = WalFileName.parse("000000010000000500000003").orElseThrow();
        byte[] p = page(0xD110, 2, 1, 0x5_C000_0000L, Long.parseUnsignedLong(SYSID), (int) gib);
        assertThat(WalPageHeader.validate(p, name, gib, 15, SYSID, gib).pageLsn()).hasToString("5/C0000000");
    }

    @Test
    void everyMajorHasItsMagic() {
        Map<Integer, Integer> magic = Map.of(13, 0xD106, 14, 0xD10D, 15, 0xD110, 16, 0xD113, 17, 0xD116, 18, 0xD118);
        magic.forEach((major, m) -> {
            assertThat(WalPageHeader.magicFor(major)).isEqualTo(m);
            assertThat(WalPageHeader.majorOf(m)).hasValue(major);
            byte[] p = page(m, 2, 1, 0x500_0000L, Long.parseUnsignedLong(SYSID), (int) MIB_16);
            assertThat(WalPageHeader.validate(p, SEG_5, MIB_16, major, SYSID, MIB_16).magic()).isEqualTo(m);
        });
        assertThat(WalPageHeader.majorOf(0xD120)).isEmpty();
        assertThatThrownBy(() -> WalPageHeader.magicFor(12)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unsupported PostgreSQL major 12");
        assertThatThrownBy(() -> WalPageHeader.magicFor(19)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void wrongSize() {
        assertFails(() -> WalPageHeader.validate(good("000000010000000000000005"), SEG_5, MIB_16 - 1, 15, SYSID, MIB_16),
                Reason.WRONG_SIZE, "000000010000000000000005: 16777215 bytes, expected 16777216 (wal_segment_size)");
        assertFails(() -> WalPageHeader.validate(good("000000010000000000000005"), SEG_5, MIB_16 * 2, 15, SYSID, MIB_16),
                Reason.WRONG_SIZE, "33554432 bytes, expected 16777216");
        assertFails(() -> WalPageHeader.validate(new byte[0], SEG_5, 0, 15, SYSID, MIB_16), Reason.WRONG_SIZE, ": 0 bytes");
        WalFileName partial = WalFileName.parse("000000010000000000000005.partial").orElseThrow();
        assertFails(() -> WalPageHeader.validate(good("000000010000000000000005"), partial, 8192, 15, SYSID, MIB_16),
                Reason.WRONG_SIZE, "000000010000000000000005.partial: 8192 bytes, expected 16777216", ".partial files at full segment size");
    }

    @Test
    void truncatedHeader() {
        assertFails(() -> WalPageHeader.validate(new byte[20], SEG_5, MIB_16, 15, SYSID, MIB_16),
                Reason.TRUNCATED, "000000010000000000000005: truncated: 20 bytes, a WAL page header needs 40");
        assertFails(() -> WalPageHeader.validate(null, SEG_5, MIB_16, 15, SYSID, MIB_16), Reason.TRUNCATED, "truncated: 0 bytes");
    }

    @Test
    void aForeignMagicNamesItsMajor() {
        byte[] pg14 = page(0xD10D, 2, 1, 0x500_0000L, Long.parseUnsignedLong(SYSID), (int) MIB_16);
        assertFails(() -> validate(pg14, SEG_5), Reason.BAD_MAGIC,
                "000000010000000000000005: magic 0xD10D is PostgreSQL 14's, expected 0xD110 (PostgreSQL 15)");
        byte[] pg18 = page(0xD118, 2, 1, 0x500_0000L, Long.parseUnsignedLong(SYSID), (int) MIB_16);
        assertFails(() -> WalPageHeader.validate(pg18, SEG_5, MIB_16, 13, SYSID, MIB_16), Reason.BAD_MAGIC,
                "magic 0xD118 is PostgreSQL 18's, expected 0xD106 (PostgreSQL 13)");
    }

    @Test
    void anUnknownMagic() {
        byte[] devel = page(0xD120, 2, 1, 0x500_0000L, Long.parseUnsignedLong(SYSID), (int) MIB_16);
        assertFails(() -> validate(devel, SEG_5), Reason.BAD_MAGIC, "magic 0xD120 is no WAL page magic of PostgreSQL 13 to 18, expected 0xD110");
        assertFails(() -> validate(new byte[8192], SEG_5), Reason.BAD_MAGIC, "magic 0x0000 (the header is all zeros), expected 0xD110");
        byte[] swapped = page(0x10D1, 2, 1, 0x500_0000L, Long.parseUnsignedLong(SYSID), (int) MIB_16);
        assertFails(() -> validate(swapped, SEG_5), Reason.BAD_MAGIC, "magic 0x10D1 is PostgreSQL 15's byte-swapped");
    }

    @ParameterizedTest
    @ValueSource(ints = {0x0000, 0x0001, 0x0004, 0x0005})
    void theFirstPageNeedsALongHeader(int info) {
        byte[] p = page(0xD110, info, 1, 0x500_0000L, Long.parseUnsignedLong(SYSID), (int) MIB_16);
        assertFails(() -> validate(p, SEG_5), Reason.NOT_LONG_HEADER,
                "000000010000000000000005: xlp_info " + String.format("0x%04X", info) + " lacks XLP_LONG_HEADER (0x0002)");
    }

    @ParameterizedTest
    @ValueSource(ints = {0x0002, 0x0003, 0x0006, 0x0007})
    void otherFlagsAlongsideTheLongHeaderAreFine(int info) {
        byte[] p = page(0xD110, info, 1, 0x500_0000L, Long.parseUnsignedLong(SYSID), (int) MIB_16);
        assertThat(validate(p, SEG_5).info()).isEqualTo(info);
    }

    @Test
    void wrongSystem() {
        assertFails(() -> WalPageHeader.validate(good("000000010000000000000005"), SEG_5, MIB_16, 15, "7712670580890710573", MIB_16),
                Reason.WRONG_SYSTEM, "000000010000000000000005: system identifier 7712670580890710572 is another cluster's, expected 7712670580890710573");
        byte[] high = page(0xD110, 2, 1, 0x500_0000L, Long.parseUnsignedLong(HIGH_SYSID), (int) MIB_16);
        assertFails(() -> validate(high, SEG_5), Reason.WRONG_SYSTEM, "system identifier 18446744073709551615 is another cluster's");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "-1", "18446744073709551616", "0x1234", "07712670580890710572", "7712670580890710572 x"})
    void aMalformedExpectedSystemIdentifierIsAnArgumentError(String sysid) {
        assertThatThrownBy(() -> WalPageHeader.validate(good("000000010000000000000005"), SEG_5, MIB_16, 15, sysid, MIB_16))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a system identifier");
    }

    @Test
    void wrongSegmentSize() {
        byte[] p = page(0xD110, 2, 1, 0x500_0000L, Long.parseUnsignedLong(SYSID), 64 << 20);
        assertFails(() -> validate(p, SEG_5), Reason.WRONG_SEGMENT_SIZE,
                "000000010000000000000005: the page header says wal_segment_size 67108864, expected 16777216");
        // a name that cannot exist with 16 MiB segments (256 per log id)
        WalFileName impossible = WalFileName.parse("000000010000000000000100").orElseThrow();
        byte[] q = page(0xD110, 2, 1, 0x1_0000_0000L, Long.parseUnsignedLong(SYSID), (int) MIB_16);
        assertFails(() -> validate(q, impossible), Reason.WRONG_SEGMENT_SIZE, "segment id 100 cannot exist with 16 MiB segments (at most FF)");
    }

    @Test
    void aNewerTimelineThanTheNameIsWrong() {
        byte[] p = page(0xD110, 2, 2, 0x500_0000L, Long.parseUnsignedLong(SYSID), (int) MIB_16);
        assertFails(() -> validate(p, SEG_5), Reason.WRONG_TIMELINE, "000000010000000000000005: page header timeline 2, expected 1 or one of its ancestors");
        byte[] zero = page(0xD110, 2, 0, 0x500_0000L, Long.parseUnsignedLong(SYSID), (int) MIB_16);
        assertFails(() -> validate(zero, SEG_5), Reason.WRONG_TIMELINE, "page header timeline 0, expected 1");
        byte[] huge = page(0xD110, 2, -1, 0x500_0000L, Long.parseUnsignedLong(SYSID), (int) MIB_16);
        assertFails(() -> validate(huge, SEG_5), Reason.WRONG_TIMELINE, "page header timeline 4294967295, expected 1");
    }

    @Test
    void anOlderTimelineIsTheFirstSegmentOfAPromotedTimeline() {
        // XLogInitNewTimeline copies the parent's segment up to the switch point: its first page keeps timeline 1.
        WalFileName tli2 = WalFileName.parse("000000020000000000000005").orElseThrow();
        assertThat(validate(good("000000010000000000000005"), tli2).timeline()).isEqualTo(1);
        assertThat(validate(good("000000020000000000000005"), tli2).timeline()).isEqualTo(2);
    }

    @Test
    void wrongPageAddress() {
        WalFileName next = WalFileName.parse("000000010000000000000006").orElseThrow();
        assertFails(() -> validate(good("000000010000000000000005"), next), Reason.WRONG_PAGE_ADDRESS,
                "000000010000000000000006: page address 0/5000000 is where 000000010000000000000005 starts, expected 0/6000000 (the start of 000000010000000000000006)");
        byte[] odd = page(0xD110, 2, 1, 0x500_2000L, Long.parseUnsignedLong(SYSID), (int) MIB_16);
        assertFails(() -> validate(odd, SEG_5), Reason.WRONG_PAGE_ADDRESS, "page address 0/5002000, expected 0/5000000");
        byte[] zero = page(0xD110, 2, 1, 0, Long.parseUnsignedLong(SYSID), (int) MIB_16);
        assertFails(() -> validate(zero, SEG_5), Reason.WRONG_PAGE_ADDRESS, "page address 0/0, expected 0/5000000");
        // the same segment number on another log id
        WalFileName otherLog = WalFileName.parse("000000010000000100000005").orElseThrow();
        assertFails(() -> validate(good("000000010000000000000005"), otherLog), Reason.WRONG_PAGE_ADDRESS, "expected 1/5000000");
    }

    @Test
    void historyFilesHaveNoPageHeader() {
        for (String name : new String[] {"00000002.history", "000000010000000000000002.00000028.backup"}) {
            WalFileName w = WalFileName.parse(name).orElseThrow();
            assertThatThrownBy(() -> validate(good("000000010000000000000005"), w)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(name);
        }
    }

    @Test
    void argumentErrors() {
        assertThatThrownBy(() -> WalPageHeader.validate(good("000000010000000000000005"), SEG_5, MIB_16, 12, SYSID, MIB_16))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("major 12");
        assertThatThrownBy(() -> WalPageHeader.validate(good("000000010000000000000005"), SEG_5, MIB_16, 15, SYSID, 3_000_000))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid WAL segment size");
        assertThatThrownBy(() -> WalPageHeader.validate(good("000000010000000000000005"), null, MIB_16, 15, SYSID, MIB_16))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void checksRunInOrderSoTheMostFundamentalMismatchIsReported() {
        // everything wrong: size wins, then magic, then the long header flag, then the system, ...
        byte[] bad = page(0xD10D, 0, 9, 0x700_0000L, 42, 64 << 20);
        assertFails(() -> WalPageHeader.validate(bad, SEG_5, 1, 15, SYSID, MIB_16), Reason.WRONG_SIZE);
        assertFails(() -> validate(bad, SEG_5), Reason.BAD_MAGIC);
        byte[] b2 = page(0xD110, 0, 9, 0x700_0000L, 42, 64 << 20);
        assertFails(() -> validate(b2, SEG_5), Reason.NOT_LONG_HEADER);
        byte[] b3 = page(0xD110, 2, 9, 0x700_0000L, 42, 64 << 20);
        assertFails(() -> validate(b3, SEG_5), Reason.WRONG_SYSTEM);
        byte[] b4 = page(0xD110, 2, 9, 0x700_0000L, Long.parseUnsignedLong(SYSID), 64 << 20);
        assertFails(() -> validate(b4, SEG_5), Reason.WRONG_SEGMENT_SIZE);
        byte[] b5 = page(0xD110, 2, 9, 0x700_0000L, Long.parseUnsignedLong(SYSID), (int) MIB_16);
        assertFails(() -> validate(b5, SEG_5), Reason.WRONG_TIMELINE);
        byte[] b6 = page(0xD110, 2, 1, 0x700_0000L, Long.parseUnsignedLong(SYSID), (int) MIB_16);
        assertFails(() -> validate(b6, SEG_5), Reason.WRONG_PAGE_ADDRESS);
    }

    @Test
    void validatesAFileReadingOnlyItsHeader(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("000000010000000000000005");
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(good("000000010000000000000005")));
            ch.write(ByteBuffer.wrap(new byte[1]), MIB_16 - 1); // sparse up to 16 MiB
        }
        assertThat(WalPageHeader.validate(file, SEG_5, 15, SYSID, MIB_16).pageLsn()).hasToString("0/5000000");
        Path small = Files.write(dir.resolve("small"), new byte[10]);
        assertFails(() -> WalPageHeader.validate(small, SEG_5, 15, SYSID, MIB_16), Reason.WRONG_SIZE, "10 bytes");
    }
}
