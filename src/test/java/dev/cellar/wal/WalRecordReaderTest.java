package dev.cellar.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.postgres.Lsn;
import dev.cellar.wal.WalRecordReader.Record;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Reads segments laid out here byte by byte as PostgreSQL writes them ({@code XLogPageHeaderData},
 * {@code XLogRecord}, {@code XLogRecordBlockHeader}, ...). Expected locations are worked out by hand in
 * the comments, not with the reader's own arithmetic.
 */
class WalRecordReaderTest {

    private static final int PAGE = 8192;
    private static final int LONG_HEADER = 40;
    private static final int SHORT_HEADER = 24;
    /** Payload of the first page (after its long header), then of each further page. */
    private static final int FIRST_PAYLOAD = PAGE - LONG_HEADER; // 8152
    private static final int PAYLOAD = PAGE - SHORT_HEADER; // 8168

    /** Segment B3 of log 16 (16 MiB segments): its first byte is 16/B3000000. */
    private static final Lsn START = Lsn.parse("16/B3000000");
    private static final int PG15 = 15;
    private static final Instant PG_EPOCH = Instant.parse("2000-01-01T00:00:00Z");

    private static final int RM_XLOG = 0;
    private static final int RM_XACT = 1;
    private static final int RM_HEAP = 10;

    // ---- records -------------------------------------------------------------------------------------

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** An XLogRecord: 24-byte header, then {@code body} (fragment headers and data), CRC-32C over body then header[0, 20). */
    static byte[] record(int rmid, int info, long xid, byte[] body) {
        int total = 24 + body.length;
        ByteBuffer b = le(total);
        b.putInt(0, total).putInt(4, (int) xid).putLong(8, 0x16_B2FF_FF00L).put(16, (byte) info).put(17, (byte) rmid);
        b.position(24);
        b.put(body);
        byte[] r = b.array();
        CRC32C crc = new CRC32C();
        crc.update(r, 24, total - 24);
        crc.update(r, 0, 20);
        ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN).putInt(20, (int) crc.getValue());
        return r;
    }

    /** A record with only main data: fragment 255 (1-byte length) or 254 (4-byte length). */
    static byte[] recordWithMainData(int rmid, int info, long xid, byte[] main) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (main.length <= 255) {
            body.write(255);
            body.write(main.length);
        } else {
            body.write(254);
            body.writeBytes(le(4).putInt(0, main.length).array());
        }
        body.writeBytes(main);
        return record(rmid, info, xid, body.toByteArray());
    }

    static long pgMicros(Instant t) {
        return ChronoUnit.MICROS.between(PG_EPOCH, t);
    }

    /** XLOG_XACT_COMMIT with xl_xact_commit: just xact_time. */
    static byte[] commit(long xid, Instant at) {
        return recordWithMainData(RM_XACT, 0x00, xid, le(8).putLong(0, pgMicros(at)).array());
    }

    /** XLOG_RESTORE_POINT with xl_restore_point: rp_time, then rp_name[64] NUL-padded. */
    static byte[] restorePoint(Instant at, String name) {
        ByteBuffer main = le(8 + 64).putLong(0, pgMicros(at));
        main.position(8);
        main.put(name.getBytes(StandardCharsets.UTF_8));
        return recordWithMainData(RM_XLOG, 0x70, 0, main.array());
    }

    /** A heap record carrying {@code length} bytes in all, to move the next record to a chosen place. */
    static byte[] filler(int length) {
        byte[] main = new byte[length - 24 - 5];
        Arrays.fill(main, (byte) 0x5A);
        byte[] r = recordWithMainData(RM_HEAP, 0x00, 700, main);
        assertThat(r).hasSize(length);
        return r;
    }

    // ---- segments ------------------------------------------------------------------------------------

    /**
     * A segment as a stream of record bytes (page headers left out, as in PostgreSQL's "usable byte
     * position"), laid out into pages by {@link #bytes()}: a long header on page 0, short ones after,
     * each with its page address and, where a record continues onto the page, XLP_FIRST_IS_CONTRECORD
     * and the remaining length.
     */
    static final class Segment {
        final int pages;
        final byte[] stream;
        int end;
        int continuedFromPrevious;
        /** [start, end) in the stream of every record, to set xlp_rem_len. */
        final List<int[]> extents = new ArrayList<>();

        Segment(int pages) {
            this.pages = pages;
            this.stream = new byte[FIRST_PAYLOAD + (pages - 1) * PAYLOAD];
        }

        /** The segment begins with the last {@code n} bytes of a record begun in the previous segment. */
        Segment continued(int n) {
            Arrays.fill(stream, 0, n, (byte) 0xAB);
            continuedFromPrevious = n;
            extents.add(new int[] {-1, n});
            end = n;
            return this;
        }

        /** Appends a record at the next MAXALIGNed position; returns its stream position. */
        int append(byte[] record) {
            return place(record, (end + 7) & ~7);
        }

        int place(byte[] record, int at) {
            System.arraycopy(record, 0, stream, at, record.length);
            extents.add(new int[] {at, at + record.length});
            end = at + record.length;
            return at;
        }

        /** Appends a filler so that the next record starts at stream position {@code next}. */
        void fillTo(int next) {
            append(filler(next - ((end + 7) & ~7)));
            assertThat(end).isEqualTo(next);
        }

        byte[] bytes() {
            byte[] seg = new byte[pages * PAGE];
            for (int p = 0; p < pages; p++) {
                int base = p * PAGE;
                int header = p == 0 ? LONG_HEADER : SHORT_HEADER;
                int payloadStart = p == 0 ? 0 : FIRST_PAYLOAD + (p - 1) * PAYLOAD;
                int remaining = 0;
                for (int[] e : extents) {
                    if (e[0] < payloadStart && e[1] > payloadStart) {
                        remaining = e[1] - payloadStart;
                    }
                }
                int info = (p == 0 ? 0x0002 : 0) | (remaining > 0 ? 0x0001 : 0); // XLP_LONG_HEADER, XLP_FIRST_IS_CONTRECORD
                ByteBuffer h = ByteBuffer.wrap(seg, base, header).order(ByteOrder.LITTLE_ENDIAN);
                h.putShort(base, (short) 0xD110).putShort(base + 2, (short) info).putInt(base + 4, 1)
                        .putLong(base + 8, START.value() + base).putInt(base + 16, remaining);
                if (p == 0) {
                    h.putLong(base + 24, 7712670580890710572L).putInt(base + 32, 16 << 20).putInt(base + 36, PAGE);
                }
                System.arraycopy(stream, payloadStart, seg, base + header, PAGE - header);
            }
            return seg;
        }
    }

    private static List<Record> read(byte[] segment) {
        return WalRecordReader.read(segment, START, PG15);
    }

    private static List<String> lsns(List<Record> records) {
        return records.stream().map(r -> r.lsn().toString()).toList();
    }

    // ---- reading -------------------------------------------------------------------------------------

    @Test
    void a_commit_is_read_with_its_location_xid_and_time() {
        Instant at = Instant.parse("2026-11-27T03:00:00.123456Z");
        Segment s = new Segment(2);
        s.append(commit(741, at));

        List<Record> records = read(s.bytes());

        assertThat(records).hasSize(1);
        Record r = records.get(0);
        assertThat(r.lsn()).isEqualTo(Lsn.parse("16/B3000028")); // right after the 40-byte long header
        assertThat(r.xid()).isEqualTo(741);
        assertThat(r.rmid()).isEqualTo(RM_XACT);
        assertThat(r.info()).isZero();
        assertThat(r.isCommit()).isTrue();
        assertThat(r.isTransactionEnd()).isTrue();
        assertThat(r.isRestorePoint()).isFalse();
        assertThat(r.time()).isEqualTo(at);
    }

    @Test
    void a_restore_point_is_read_with_its_name_and_time() {
        Instant at = Instant.parse("2026-11-27T02:59:59.5Z");
        Segment s = new Segment(2);
        s.append(commit(741, at.minusSeconds(1)));
        s.append(restorePoint(at, "before-upgrade"));

        List<Record> records = read(s.bytes());

        assertThat(lsns(records)).containsExactly("16/B3000028", "16/B3000050"); // 0x28 + MAXALIGN(34) = 0x50
        Record rp = records.get(1);
        assertThat(rp.isRestorePoint()).isTrue();
        assertThat(rp.isTransactionEnd()).isFalse();
        assertThat(rp.isCommit()).isFalse();
        assertThat(rp.restorePointName()).isEqualTo("before-upgrade");
        assertThat(rp.time()).isEqualTo(at);
    }

    @Test
    void a_record_split_inside_its_header_across_a_page_boundary_is_read_without_the_page_header_between() {
        Instant at = Instant.parse("2026-11-27T03:00:00Z");
        Segment s = new Segment(3);
        s.append(commit(741, at));
        // Page 0 holds stream bytes [0, 8152): a record at 8144 has 8 header bytes on page 0, the rest on page 1.
        s.fillTo(8144);
        s.append(commit(742, at.plusSeconds(1)));
        s.append(commit(743, at.plusSeconds(2)));

        List<Record> records = read(s.bytes());

        // 40 + 8144 = 8184 = 0x1FF8; the next at stream 8184 = page 1 payload + 32: 8192 + 24 + 32 = 0x2038.
        assertThat(lsns(records)).containsExactly("16/B3000028", "16/B3000050", "16/B3001FF8", "16/B3002038");
        assertThat(records.get(2).xid()).isEqualTo(742);
        assertThat(records.get(2).time()).isEqualTo(at.plusSeconds(1));
        assertThat(records.get(3).xid()).isEqualTo(743);
    }

    @Test
    void a_record_starting_a_page_is_located_after_that_pages_short_header() {
        Segment s = new Segment(3);
        s.append(commit(741, Instant.parse("2026-11-27T03:00:00Z")));
        s.fillTo(FIRST_PAYLOAD); // ends exactly where page 0 ends
        s.append(commit(742, Instant.parse("2026-11-27T03:00:01Z")));
        s.fillTo(FIRST_PAYLOAD + PAYLOAD);
        s.append(commit(743, Instant.parse("2026-11-27T03:00:02Z")));

        List<Record> records = read(s.bytes());

        // Page 1 begins at 0x2000, its record after the 24-byte header at 0x2018; page 2 at 0x4000, 0x4018.
        assertThat(lsns(records)).containsExactly("16/B3000028", "16/B3000050", "16/B3002018", "16/B3002040", "16/B3004018");
        assertThat(records).extracting(Record::xid).containsExactly(741L, 700L, 742L, 700L, 743L);
    }

    @Test
    void a_record_spanning_several_pages_is_read_and_so_is_the_one_after_it() {
        Segment s = new Segment(4);
        s.append(commit(741, Instant.parse("2026-11-27T03:00:00Z")));
        s.append(filler(20000)); // stream [40, 20040): pages 0, 1 and 2
        s.append(commit(742, Instant.parse("2026-11-27T03:00:01Z")));

        List<Record> records = read(s.bytes());

        // Stream 20040 = 8152 + 8168 + 3720: page 2 at 16384 + 24 + 3720 = 20128 = 0x4EA0.
        assertThat(lsns(records)).containsExactly("16/B3000028", "16/B3000050", "16/B3004EA0");
        assertThat(records.get(1).mainData()).hasSize(20000 - 24 - 5).containsOnly(0x5A);
        assertThat(records.get(2).xid()).isEqualTo(742);
    }

    @Test
    void a_long_main_data_fragment_is_read() {
        byte[] main = new byte[300];
        ByteBuffer.wrap(main).order(ByteOrder.LITTLE_ENDIAN).putLong(0, pgMicros(Instant.parse("2026-11-27T03:00:00Z")));
        main[299] = 42;
        Segment s = new Segment(1);
        s.append(recordWithMainData(RM_XACT, 0x80, 741, main)); // a commit with XLOG_XACT_HAS_INFO and subtransactions

        Record r = read(s.bytes()).get(0);

        assertThat(r.mainData()).isEqualTo(main);
        assertThat(r.isCommit()).isTrue();
        assertThat(r.time()).isEqualTo(Instant.parse("2026-11-27T03:00:00Z"));
    }

    @Test
    void the_tail_of_a_record_continued_from_the_previous_segment_is_skipped() {
        Segment s = new Segment(2).continued(100);
        s.append(commit(741, Instant.parse("2026-11-27T03:00:00Z")));

        byte[] segment = s.bytes();
        assertThat(ByteBuffer.wrap(segment).order(ByteOrder.LITTLE_ENDIAN).getInt(16)).isEqualTo(100); // xlp_rem_len

        // MAXALIGN(100) = 104 after the long header: 40 + 104 = 0x90.
        assertThat(lsns(read(segment))).containsExactly("16/B3000090");
    }

    @Test
    void a_continued_record_longer_than_the_first_page_is_skipped_into_the_second() {
        Segment s = new Segment(3).continued(9000);
        s.append(commit(741, Instant.parse("2026-11-27T03:00:00Z")));

        // Stream 9000 = page 1 payload + 848: 8192 + 24 + 848 = 9064 = 0x2368.
        List<Record> records = read(s.bytes());
        assertThat(lsns(records)).containsExactly("16/B3002368");
        assertThat(records.get(0).xid()).isEqualTo(741);
    }

    @Test
    void a_record_with_a_bad_crc_in_its_data_ends_the_read() {
        Segment s = new Segment(2);
        s.append(commit(741, Instant.parse("2026-11-27T03:00:00Z")));
        int second = s.append(commit(742, Instant.parse("2026-11-27T03:00:01Z")));
        s.append(commit(743, Instant.parse("2026-11-27T03:00:02Z")));
        byte[] segment = s.bytes();
        assertThat(lsns(read(segment))).hasSize(3);

        segment[LONG_HEADER + second + 24 + 2] ^= 0x01; // first byte of the second record's xact_time

        assertThat(lsns(read(segment))).containsExactly("16/B3000028");
    }

    @Test
    void a_record_with_a_changed_header_field_fails_its_crc_too() {
        Segment s = new Segment(2);
        s.append(commit(741, Instant.parse("2026-11-27T03:00:00Z")));
        int second = s.append(commit(742, Instant.parse("2026-11-27T03:00:01Z")));
        byte[] segment = s.bytes();

        segment[LONG_HEADER + second + 4] ^= 0x01; // xl_xid, inside the CRC's header part [0, 20)

        assertThat(lsns(read(segment))).containsExactly("16/B3000028");
    }

    @Test
    void a_zero_length_ends_the_read_even_when_records_follow_in_a_full_size_segment() {
        Segment s = new Segment(2048); // 16 MiB
        s.append(commit(741, Instant.parse("2026-11-27T03:00:00Z")));
        s.place(commit(742, Instant.parse("2026-11-27T03:00:01Z")), 80); // stream 40..80 stays zero: xl_tot_len 0 at 40

        byte[] segment = s.bytes();
        assertThat(segment).hasSize(16 << 20);

        assertThat(lsns(read(segment))).containsExactly("16/B3000028");
    }

    @Test
    void a_page_of_another_position_ends_the_read_before_any_record_reaching_into_it() {
        Segment s = new Segment(3);
        s.append(commit(741, Instant.parse("2026-11-27T03:00:00Z")));
        s.fillTo(9000);
        s.append(commit(742, Instant.parse("2026-11-27T03:00:01Z"))); // on page 1
        s.fillTo(FIRST_PAYLOAD + PAYLOAD - 16);
        s.append(commit(743, Instant.parse("2026-11-27T03:00:02Z"))); // 34 bytes from 16 before page 2: reaches into it
        s.append(commit(744, Instant.parse("2026-11-27T03:00:03Z"))); // wholly on page 2
        byte[] segment = s.bytes();
        assertThat(read(segment)).extracting(Record::xid).containsExactly(741L, 700L, 742L, 700L, 743L, 744L);

        // Page 2 still holds what it held in the segment's previous life, 16 MiB earlier.
        ByteBuffer.wrap(segment).order(ByteOrder.LITTLE_ENDIAN).putLong(2 * PAGE + 8, START.value() - (16 << 20) + 2 * PAGE);

        assertThat(read(segment)).extracting(Record::xid).containsExactly(741L, 700L, 742L, 700L);
    }

    @Test
    void a_wrong_first_page_address_gives_no_records() {
        Segment s = new Segment(2);
        s.append(commit(741, Instant.parse("2026-11-27T03:00:00Z")));

        assertThat(WalRecordReader.read(s.bytes(), START.plus(16 << 20), PG15)).isEmpty();
    }

    @Test
    void a_record_continuing_into_the_next_segment_is_not_returned() {
        Segment s = new Segment(2); // stream [0, 16320)
        s.append(commit(741, Instant.parse("2026-11-27T03:00:00Z")));
        s.fillTo(FIRST_PAYLOAD + PAYLOAD - 32);
        s.append(Arrays.copyOf(commit(742, Instant.parse("2026-11-27T03:00:01Z")), 32)); // 32 of its 34 bytes; the rest is in the next segment

        assertThat(read(s.bytes())).extracting(Record::xid).containsExactly(741L, 700L);
    }

    @Test
    void a_record_whose_header_continues_into_the_next_segment_is_not_returned() {
        Segment s = new Segment(2);
        s.append(commit(741, Instant.parse("2026-11-27T03:00:00Z")));
        s.fillTo(FIRST_PAYLOAD + PAYLOAD - 16);
        s.append(Arrays.copyOf(commit(742, Instant.parse("2026-11-27T03:00:01Z")), 16)); // 16 of its 24 header bytes

        assertThat(read(s.bytes())).extracting(Record::xid).containsExactly(741L, 700L);
    }

    // ---- block references before the main data --------------------------------------------------------

    /**
     * A heap record with two block references, a replication origin and a top-level xid before its main
     * data: block 0 with a full-page image ({@code bimgInfo}, plus hole_length when {@code holeLength}),
     * block 1 of the same relation with 4 bytes of data.
     */
    static byte[] withBlocks(int bimgInfo, boolean holeLength, byte[] main) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0); // block id 0
        b.write(0x10 | 0x20); // BKPBLOCK_HAS_IMAGE | BKPBLOCK_HAS_DATA
        b.writeBytes(le(2).putShort(0, (short) 6).array()); // data_length
        b.writeBytes(le(2).putShort(0, (short) 10).array()); // bimg_len
        b.writeBytes(le(2).putShort(0, (short) 100).array()); // hole_offset
        b.write(bimgInfo);
        if (holeLength) {
            b.writeBytes(le(2).putShort(0, (short) 7000).array());
        }
        b.writeBytes(le(12).putInt(0, 1663).putInt(4, 5).putInt(8, 16384).array()); // RelFileLocator
        b.writeBytes(le(4).putInt(0, 42).array()); // block number
        b.write(1); // block id 1
        b.write(0x80 | 0x20); // BKPBLOCK_SAME_REL | BKPBLOCK_HAS_DATA
        b.writeBytes(le(2).putShort(0, (short) 4).array());
        b.writeBytes(le(4).putInt(0, 43).array());
        b.write(253); // XLR_BLOCK_ID_ORIGIN
        b.writeBytes(le(2).putShort(0, (short) 1).array());
        b.write(252); // XLR_BLOCK_ID_TOPLEVEL_XID
        b.writeBytes(le(4).putInt(0, 740).array());
        b.write(255);
        b.write(main.length);
        b.writeBytes(new byte[10]); // image
        b.writeBytes(new byte[] {1, 2, 3, 4, 5, 6}); // block 0 data
        b.writeBytes(new byte[] {7, 8, 9, 10}); // block 1 data
        b.writeBytes(main);
        return record(RM_HEAP, 0x00, 741, b.toByteArray());
    }

    private static final byte[] HEAP_MAIN = {(byte) 0xC1, (byte) 0xC2, (byte) 0xC3};

    @ParameterizedTest(name = "PostgreSQL {0}")
    @ValueSource(ints = {15, 16, 17, 18})
    void main_data_is_found_after_block_references_of_postgresql_15_and_later(int major) {
        Segment s = new Segment(1);
        s.append(withBlocks(0x01 | 0x04, true, HEAP_MAIN)); // BKPIMAGE_HAS_HOLE | BKPIMAGE_COMPRESS_PGLZ: hole_length follows
        s.append(withBlocks(0x01 | 0x10, true, HEAP_MAIN)); // BKPIMAGE_HAS_HOLE | BKPIMAGE_COMPRESS_ZSTD: hole_length follows
        s.append(withBlocks(0x01 | 0x02, false, HEAP_MAIN)); // BKPIMAGE_HAS_HOLE | BKPIMAGE_APPLY: not compressed, no hole_length

        assertThat(WalRecordReader.read(s.bytes(), START, major)).extracting(Record::mainData)
                .containsExactly(HEAP_MAIN, HEAP_MAIN, HEAP_MAIN);
    }

    @ParameterizedTest(name = "PostgreSQL {0}")
    @ValueSource(ints = {13, 14})
    void main_data_is_found_after_block_references_of_postgresql_13_and_14_whose_compressed_flag_is_0x02(int major) {
        Segment s = new Segment(1);
        s.append(withBlocks(0x01 | 0x02, true, HEAP_MAIN)); // BKPIMAGE_HAS_HOLE | BKPIMAGE_IS_COMPRESSED (13, 14): hole_length follows
        s.append(withBlocks(0x01 | 0x04, false, HEAP_MAIN)); // BKPIMAGE_HAS_HOLE | BKPIMAGE_APPLY (13, 14): no hole_length

        assertThat(WalRecordReader.read(s.bytes(), START, major)).extracting(Record::mainData).containsExactly(HEAP_MAIN, HEAP_MAIN);
    }

    /** A record with one block reference (another relation, {@code data} as its block data) and no main data. */
    static byte[] withoutMainData(int rmid, int info, byte[] data) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0); // block id 0
        b.write(0x20); // BKPBLOCK_HAS_DATA
        b.writeBytes(le(2).putShort(0, (short) data.length).array());
        b.writeBytes(le(12).putInt(0, 1663).putInt(4, 5).putInt(8, 16384).array());
        b.writeBytes(le(4).putInt(0, 42).array());
        b.writeBytes(data);
        return record(rmid, info, 741, b.toByteArray());
    }

    @Test
    void a_record_without_main_data_has_empty_main_data_even_when_its_block_data_looks_like_a_fragment_header() {
        // PostgreSQL stops reading fragment headers when the bytes left are the blocks' data (DecodeXLogRecord);
        // data starting 255, 4 is no "main data of 4 bytes".
        Segment s = new Segment(1);
        s.append(withoutMainData(RM_HEAP, 0x00, new byte[] {(byte) 255, 4, 1, 2, 3, 4, 5, 6}));

        assertThat(read(s.bytes())).singleElement().satisfies(r -> assertThat(r.mainData()).isEmpty());
    }

    @Test
    void a_full_page_image_record_has_empty_main_data_even_when_its_image_looks_like_a_fragment_header() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0); // block id 0
        b.write(0x10); // BKPBLOCK_HAS_IMAGE, no data
        b.writeBytes(le(2).putShort(0, (short) 0).array()); // data_length
        b.writeBytes(le(2).putShort(0, (short) 8).array()); // bimg_len
        b.writeBytes(le(2).putShort(0, (short) 0).array()); // hole_offset
        b.write(0x02); // BKPIMAGE_APPLY (15+)
        b.writeBytes(le(12).putInt(0, 1663).putInt(4, 5).putInt(8, 16384).array());
        b.writeBytes(le(4).putInt(0, 42).array());
        b.writeBytes(new byte[] {(byte) 255, 3, 9, 9, 9, 9, 9, 9}); // the image
        Segment s = new Segment(1);
        s.append(record(RM_XLOG, 0xB0, 0, b.toByteArray())); // XLOG_FPI

        assertThat(read(s.bytes())).singleElement().satisfies(r -> {
            assertThat(r.mainData()).isEmpty();
            assertThat(r.isRestorePoint()).isFalse();
        });
    }

    @Test
    void block_data_ending_the_valid_wal_is_not_read_as_a_fragment_header_past_its_end() {
        // 24 + 20 + 4 = 48 bytes placed to end exactly where page 0 (the only page) ends. Read as headers, its
        // data would be an origin (253 + 2 bytes), then 254: a 4-byte main data length after the record's last byte
        // (an IndexOutOfBoundsException out of read() before the reader stopped at the blocks' data).
        Segment s = new Segment(1);
        s.append(commit(741, Instant.parse("2026-11-27T03:00:00Z")));
        byte[] r = withoutMainData(RM_HEAP, 0x00, new byte[] {(byte) 253, 0, 0, (byte) 254});
        assertThat(r).hasSize(48);
        s.fillTo(FIRST_PAYLOAD - 48);
        s.append(r);

        assertThat(read(s.bytes())).extracting(Record::lsn).extracting(Lsn::toString)
                .containsExactly("16/B3000028", "16/B3000050", "16/B3001FD0"); // 40 + 8104 = 8144 = 0x1FD0
    }

    // ---- the record crossing into the next segment --------------------------------------------------------

    /**
     * Two 2-page segments: A ends with the first {@code inA} bytes of a 3,000-byte record, B (the next segment,
     * at START + 2 pages) begins with the rest of it, then a commit. {@code bInfo} is extra flag bits of B's first page.
     */
    private static byte[][] crossing(int inA, int bInfo) {
        byte[] r = filler(3000);
        Segment a = new Segment(2);
        a.append(commit(740, Instant.parse("2026-11-24T02:00:00Z")));
        int q = a.stream.length - inA;
        a.fillTo(q);
        System.arraycopy(r, 0, a.stream, q, inA);
        a.extents.add(new int[] {q, q + r.length});
        Segment b = new Segment(2).continued(r.length - inA);
        System.arraycopy(r, inA, b.stream, 0, r.length - inA);
        b.append(commit(741, Instant.parse("2026-11-24T02:00:01Z")));
        byte[] bb = b.bytes();
        for (int p = 0; p < 2; p++) {
            ByteBuffer h = ByteBuffer.wrap(bb).order(ByteOrder.LITTLE_ENDIAN);
            h.putLong(p * PAGE + 8, START.value() + 2L * PAGE + p * PAGE);
        }
        bb[2] |= (byte) bInfo;
        return new byte[][] {a.bytes(), bb};
    }

    private static WalRecordReader.Segment readWithNext(byte[][] ab, boolean nextAvailable) throws Exception {
        return WalRecordReader.read(ab[0], START, PG15, (k, bytes) -> k == 1 && nextAvailable ? Arrays.copyOf(ab[1], Math.min(bytes, ab[1].length)) : null);
    }

    @ParameterizedTest
    @ValueSource(ints = {1000, 16, 8}) // the record's header whole in A, or split across the two segments
    void the_record_crossing_the_segments_end_is_read_from_the_next_segment(int inA) throws Exception {
        byte[][] ab = crossing(inA, 0);
        WalRecordReader.Segment whole = readWithNext(ab, true);

        assertThat(whole.end()).isEqualTo(WalRecordReader.End.SEGMENT_END);
        Record last = whole.records().get(whole.records().size() - 1);
        assertThat(last.rmid()).isEqualTo(RM_HEAP);
        assertThat(last.lsn()).isEqualTo(START.plus(2L * PAGE - inA)); // the second page is full: the record starts inA bytes before A's end
        // 3,000 - inA bytes in B, after its long header
        assertThat(last.end()).isEqualTo(START.plus(2L * PAGE + LONG_HEADER + 3000 - inA));
        assertThat(whole.records()).hasSize(3); // the commit, the filler, the crossing record; not B's commit

        WalRecordReader.Segment alone = readWithNext(ab, false);
        assertThat(alone.end()).isEqualTo(WalRecordReader.End.NEEDS_NEXT);
        assertThat(alone.records()).hasSize(2);
        assertThat(WalRecordReader.read(ab[0], START, PG15)).hasSize(2);
    }

    @Test
    void a_crossing_record_that_the_next_segment_overwrote_is_not_wal() throws Exception {
        WalRecordReader.Segment s = readWithNext(crossing(1000, 0x0008), true); // XLP_FIRST_IS_OVERWRITE_CONTRECORD

        assertThat(s.end()).isEqualTo(WalRecordReader.End.END_OF_WAL);
        assertThat(s.detail()).contains("abandoned");
        assertThat(s.records()).hasSize(2);
    }

    @Test
    void a_next_segment_that_does_not_continue_the_record_ends_the_wal() throws Exception {
        byte[][] ab = crossing(1000, 0);
        ab[1][2] &= (byte) ~0x01; // no XLP_FIRST_IS_CONTRECORD
        WalRecordReader.Segment s = readWithNext(ab, true);

        assertThat(s.end()).isEqualTo(WalRecordReader.End.END_OF_WAL);
        assertThat(s.detail()).contains("does not continue the record");
    }

    // ---- what a record is ------------------------------------------------------------------------------

    private static Record rec(int rmid, int info) {
        return new Record(Lsn.parse("0/5000028"), Lsn.parse("0/5000048"), 741, rmid, info, new byte[8], List.of(), null);
    }

    @Test
    void commits_and_prepared_commits_are_commits_and_transaction_ends() {
        for (int info : new int[] {0x00, 0x80, 0x30, 0xB0}) { // COMMIT, COMMIT with HAS_INFO, COMMIT_PREPARED, with HAS_INFO
            assertThat(rec(RM_XACT, info).isCommit()).as("info 0x%02X", info).isTrue();
            assertThat(rec(RM_XACT, info).isTransactionEnd()).as("info 0x%02X", info).isTrue();
        }
    }

    @Test
    void aborts_are_transaction_ends_but_not_commits() {
        for (int info : new int[] {0x20, 0xA0, 0x40}) { // ABORT, ABORT with HAS_INFO, ABORT_PREPARED
            assertThat(rec(RM_XACT, info).isCommit()).as("info 0x%02X", info).isFalse();
            assertThat(rec(RM_XACT, info).isTransactionEnd()).as("info 0x%02X", info).isTrue();
        }
    }

    @Test
    void prepare_assignment_and_invalidations_are_not_transaction_ends() {
        for (int info : new int[] {0x10, 0x50, 0x60}) {
            assertThat(rec(RM_XACT, info).isTransactionEnd()).as("info 0x%02X", info).isFalse();
            assertThat(rec(RM_XACT, info).isCommit()).as("info 0x%02X", info).isFalse();
        }
    }

    @Test
    void info_0x00_of_another_resource_manager_is_not_a_commit() {
        assertThat(rec(RM_XLOG, 0x00).isCommit()).isFalse(); // XLOG_CHECKPOINT_SHUTDOWN
        assertThat(rec(RM_XLOG, 0x00).isTransactionEnd()).isFalse();
        assertThat(rec(RM_HEAP, 0x00).isTransactionEnd()).isFalse();
    }

    @Test
    void a_restore_point_is_xlog_0x70_whatever_its_low_flag_bits() {
        assertThat(rec(RM_XLOG, 0x70).isRestorePoint()).isTrue();
        assertThat(rec(RM_XLOG, 0x72).isRestorePoint()).isTrue(); // XLR_CHECK_CONSISTENCY
        assertThat(rec(RM_XLOG, 0x10).isRestorePoint()).isFalse(); // XLOG_CHECKPOINT_ONLINE
        assertThat(rec(RM_XLOG, 0xF0).isRestorePoint()).isFalse();
        assertThat(rec(RM_XACT, 0x70).isRestorePoint()).isFalse();
    }

    @Test
    void a_time_before_2000_is_negative_microseconds_and_still_exact() {
        byte[] main = le(8).putLong(0, -1).array();

        assertThat(new Record(Lsn.ZERO, Lsn.ZERO, 0, RM_XACT, 0, main, List.of(), null).time()).isEqualTo(Instant.parse("1999-12-31T23:59:59.999999Z"));
    }

    @Test
    void a_restore_point_name_of_63_utf8_bytes_is_read_whole() {
        String name = "ü".repeat(31) + "x"; // 63 bytes, then the NUL
        ByteBuffer main = le(72);
        main.position(8);
        main.put(name.getBytes(StandardCharsets.UTF_8));

        assertThat(new Record(Lsn.ZERO, Lsn.ZERO, 0, RM_XLOG, 0x70, main.array(), List.of(), null).restorePointName()).isEqualTo(name);
    }
}
