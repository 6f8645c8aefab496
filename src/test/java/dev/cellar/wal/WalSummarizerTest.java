package dev.cellar.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.postgres.Lsn;
import dev.cellar.wal.WalRecordReader.BlockRef;
import dev.cellar.wal.WalRecordReader.Record;
import dev.cellar.wal.WalSummary.RelationFork;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The summary rules on records laid out here by hand from PostgreSQL's structs: the ones real WAL in the ITs does
 * not produce (wal_level=minimal, an unknown record with XLR_SPECIAL_REL_UPDATE, PostgreSQL 13's database
 * records, a truncated visibility map).
 */
class WalSummarizerTest {

    private static final Lsn AT = Lsn.parse("0/3000100");

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static Record record(int rmid, int info, byte[] main, BlockRef... blocks) {
        return new Record(AT, AT.plus(64), 700, rmid, info, main, List.of(blocks), null);
    }

    private static WalSummary summary(int major, Record... records) {
        WalSummary s = new WalSummary(1, major, Lsn.parse("0/3000000"), 16 << 20);
        for (Record r : records) {
            WalSummarizer.add(s, r, major);
        }
        return s;
    }

    /** xl_parameter_change: MaxConnections, max_worker_processes, max_wal_senders, max_prepared_xacts, max_locks_per_xact, wal_level, 2 bools. */
    private static byte[] parameterChange(int walLevel) {
        return le(28).putInt(0, 100).putInt(4, 8).putInt(8, 10).putInt(12, 0).putInt(16, 64).putInt(20, walLevel).array();
    }

    @Test
    void wal_level_minimal_in_a_parameter_change_makes_the_summary_unsafe() {
        assertThat(summary(15, record(0, 0x60, parameterChange(1))).isUnsafe()).as("replica").isFalse();
        WalSummary minimal = summary(13, record(0, 0x60, parameterChange(0)));
        assertThat(minimal.unsafeReason()).hasValueSatisfying(r -> assertThat(r).contains("wal_level=minimal at 0/3000100"));
    }

    @Test
    void from_17_a_shutdown_checkpoint_at_wal_level_minimal_makes_it_unsafe_but_not_before() {
        // CheckPoint: redo, ThisTimeLineID, PrevTimeLineID, fullPageWrites (+3 padding), wal_level at 20
        byte[] checkpoint = le(88).putLong(0, 0x3000028L).putInt(8, 1).putInt(12, 1).put(16, (byte) 1).putInt(20, 0).array();
        assertThat(summary(17, record(0, 0x00, checkpoint)).isUnsafe()).isTrue();
        assertThat(summary(16, record(0, 0x00, checkpoint)).isUnsafe()).as("bytes 20-23 are padding before 17").isFalse();
    }

    @Test
    void an_unknown_record_with_xlr_special_rel_update_makes_it_unsafe() {
        assertThat(summary(15, record(10, 0x00, new byte[4])).isUnsafe()).as("a heap record").isFalse();
        WalSummary s = summary(15, record(130, 0x01, new byte[4])); // a custom resource manager
        assertThat(s.unsafeReason()).hasValueSatisfying(r -> assertThat(r).contains("resource manager 130").contains("XLR_SPECIAL_REL_UPDATE"));
    }

    @Test
    void postgres_13_database_create_and_drop_set_the_sentinels() {
        byte[] create = le(16).putInt(0, 16390).putInt(4, 1663).putInt(8, 1).putInt(12, 1663).array();
        byte[] drop = le(16).putInt(0, 16391).putInt(4, 2).putInt(8, 1663).putInt(12, 16400).array();
        WalSummary s = summary(13, record(4, 0x00, create), record(4, 0x10, drop));
        assertThat(s.forks()).containsExactly(RelationFork.sentinel(1663, 16390), RelationFork.sentinel(1663, 16391), RelationFork.sentinel(16400, 16391));
        assertThat(s.forks()).allMatch(f -> s.limit(f) == 0);
        // on 15, 0x10 is CREATE_WAL_LOG {db, tablespace}
        assertThat(summary(15, record(4, 0x10, le(8).putInt(0, 16392).putInt(4, 1663).array())).limit(RelationFork.sentinel(1663, 16392))).isZero();
    }

    @Test
    void a_truncation_limits_the_heap_at_its_new_length_and_the_map_at_the_page_of_that_length() {
        RelationFork heap = new RelationFork(1663, 5, 16384, 0);
        RelationFork vm = new RelationFork(1663, 5, 16384, 2);
        RelationFork fsm = new RelationFork(1663, 5, 16384, 1);
        // xl_smgr_truncate: blkno, RelFileLocator, flags (HEAP | VM | FSM)
        byte[] truncate = le(20).putInt(0, 70_000).putInt(4, 1663).putInt(8, 5).putInt(12, 16384).putInt(16, 7).array();
        WalSummary s = summary(15,
                record(10, 0x00, new byte[0], new BlockRef(1663, 5, 16384, 0, 80_000), new BlockRef(1663, 5, 16384, 1, 3),
                        new BlockRef(1663, 5, 16384, 2, 2)),
                record(2, 0x20, truncate),
                record(10, 0x00, new byte[0], new BlockRef(1663, 5, 16384, 0, 69_999)));
        assertThat(s.limit(heap)).isEqualTo(70_000);
        assertThat(s.blocks(heap)).containsExactly(69_999);
        assertThat(s.limit(vm)).isEqualTo(2); // 70,000 / 32,672 heap blocks a map page
        assertThat(s.blocks(vm)).isEmpty();
        assertThat(s.forks()).doesNotContain(fsm);
    }

    @Test
    void a_commit_dropping_relations_limits_all_their_forks_but_the_free_space_map() {
        // xl_xact_commit: xact_time; XLOG_XACT_HAS_INFO -> xinfo (DBINFO | SUBXACTS | RELFILELOCATORS), dbinfo, 1 subxact, 1 relation
        byte[] commit = le(8 + 4 + 8 + 8 + 16).putInt(8, 0b111).putInt(12, 5).putInt(16, 1663).putInt(20, 1).putInt(24, 801)
                .putInt(28, 1).putInt(32, 1663).putInt(36, 5).putInt(40, 16390).array();
        WalSummary s = summary(15, record(1, 0x80, commit));
        assertThat(s.forks()).containsExactly(new RelationFork(1663, 5, 16390, 0), new RelationFork(1663, 5, 16390, 2), new RelationFork(1663, 5, 16390, 3));
        assertThat(s.forks()).allMatch(f -> s.limit(f) == 0);
        assertThat(summary(15, record(1, 0x10, commit)).forks()).as("a PREPARE drops nothing yet").isEmpty();
    }

    @Test
    void a_record_whose_headers_do_not_decode_makes_it_unsafe() {
        Record bad = new Record(AT, AT.plus(64), 700, 10, 0, new byte[0], List.of(), "record at 0/3000100: unknown fragment id 77");
        assertThat(summary(15, bad).unsafeReason()).contains("record at 0/3000100: unknown fragment id 77");
    }
}
