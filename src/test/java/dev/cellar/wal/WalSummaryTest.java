package dev.cellar.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cellar.postgres.Lsn;
import dev.cellar.repository.RepositoryFormatException;
import dev.cellar.wal.WalSummary.RelationFork;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The summary's rules (limits forget blocks) and its file format: round trip, corruption, truncation. */
class WalSummaryTest {

    private static final RelationFork T = new RelationFork(1663, 5, 16384, 0);
    private static final RelationFork T_VM = new RelationFork(1663, 5, 16384, 2);
    private static final RelationFork BIG = new RelationFork(4_000_000_000L, 4_000_000_001L, 4_000_000_002L, 0);

    private static WalSummary sample() {
        WalSummary s = new WalSummary(3, 15, Lsn.parse("16/B3000000"), 16 << 20);
        for (long b = 0; b < 10; b++) {
            s.markModified(T, b);
        }
        s.markModified(T, 70_000); // second chunk
        s.markModified(T_VM, 0);
        for (long b = 0; b < 5000; b++) {
            s.markModified(BIG, 0xFFFF_0000L + b); // a dense chunk: written as a bitmap, the last chunk of the block space
        }
        s.markModified(BIG, 0xFFFF_FFFEL);
        s.setLimit(RelationFork.sentinel(1663, 16390), 0);
        s.recordSeen(Lsn.parse("16/B4000010"));
        return s;
    }

    @Test
    void a_limit_forgets_the_blocks_at_and_past_it_and_only_ever_goes_down() {
        WalSummary s = sample();
        s.setLimit(T, 5);
        assertThat(s.blocks(T)).containsExactly(0, 1, 2, 3, 4);
        s.setLimit(T, 8); // a longer length later does not raise the limit
        assertThat(s.limit(T)).isEqualTo(5);
        s.markModified(T, 9); // extended again after the truncation: modified
        assertThat(s.blocks(T)).containsExactly(0, 1, 2, 3, 4, 9);
        s.setLimit(T, 0);
        assertThat(s.blocks(T)).isEmpty();
        assertThat(s.limit(T_VM)).isEqualTo(WalSummary.NO_LIMIT);
    }

    @Test
    void the_file_reads_back_exactly() {
        WalSummary s = sample();
        s.markUnsafe("wal_level=minimal at 16/B3000100");
        byte[] file = s.encode();
        WalSummary back = WalSummary.decode(file, "main/wal/x.summary");

        assertThat(back.describe()).isEqualTo(s.describe());
        assertThat(back.blocks(BIG)).hasSize(5001).endsWith(0xFFFF_FFFEL);
        assertThat(back.limit(RelationFork.sentinel(1663, 16390))).isZero();
        assertThat(back.unsafeReason()).contains("wal_level=minimal at 16/B3000100");
        assertThat(back.timeline()).isEqualTo(3);
        assertThat(back.pgMajor()).isEqualTo(15);
        assertThat(back.segmentStart()).isEqualTo(Lsn.parse("16/B3000000"));
        assertThat(back.end()).isEqualTo(Lsn.parse("16/B4000010"));
        assertThat(back.records()).isEqualTo(1);
        assertThat(back).isEqualTo(s);
        // the dense chunk is a bitmap (8 KiB), not 5,000 two-byte offsets
        assertThat(file.length).isLessThan(8192 + 1000);
    }

    @Test
    void an_empty_summary_is_a_small_file() {
        WalSummary s = new WalSummary(1, 17, Lsn.parse("0/1000000"), 16 << 20);
        byte[] file = s.encode();
        assertThat(file).hasSize(54);
        assertThat(WalSummary.decode(file, "x").forks()).isEmpty();
        assertThat(WalSummary.decode(file, "x").isUnsafe()).isFalse();
    }

    @Test
    void a_flipped_bit_anywhere_is_a_checksum_mismatch_naming_the_file() {
        byte[] file = sample().encode();
        for (int at : new int[] {9, 60, file.length / 2, file.length - 1}) {
            byte[] bad = file.clone();
            bad[at] ^= 0x10;
            assertThatThrownBy(() -> WalSummary.decode(bad, "main/wal/0000000100000016/0000000100000016000000B3.summary"))
                    .isInstanceOf(RepositoryFormatException.class)
                    .hasMessageContaining("0000000100000016000000B3.summary")
                    .hasMessageContaining("checksum mismatch");
        }
    }

    @Test
    void a_truncated_file_is_refused() {
        byte[] file = sample().encode();
        assertThatThrownBy(() -> WalSummary.decode(Arrays.copyOf(file, file.length - 100), "s.summary"))
                .isInstanceOf(RepositoryFormatException.class).hasMessageContaining("s.summary").hasMessageContaining("truncated");
        assertThatThrownBy(() -> WalSummary.decode(Arrays.copyOf(file, 20), "s.summary"))
                .isInstanceOf(RepositoryFormatException.class).hasMessageContaining("s.summary is truncated: 20 bytes");
    }

    @Test
    void a_newer_format_asks_for_an_upgrade_and_garbage_is_no_summary() {
        byte[] file = sample().encode();
        file[4] = 2;
        assertThatThrownBy(() -> WalSummary.decode(file, "s.summary")).hasMessageContaining("format 2").hasMessageContaining("upgrade Cellar");
        assertThatThrownBy(() -> WalSummary.decode(new byte[100], "s.summary")).hasMessageContaining("not a WAL summary");
    }
    @Test
    void merging_in_wal_order_keeps_the_smallest_limit_and_the_blocks_written_after_it() {
        WalSummary first = new WalSummary(1, 15, Lsn.parse("0/1000000"), 16 << 20);
        first.markModified(T, 10);
        first.markModified(T, 500);
        first.markModified(T, 70_000);
        WalSummary second = new WalSummary(1, 15, Lsn.parse("0/2000000"), 16 << 20);
        second.setLimit(T, 400); // a VACUUM truncation: forgets 500 and 70,000 of the first segment
        second.markModified(T, 450); // the heap grew again afterwards
        second.markModified(T_VM, 1);
        WalSummary third = new WalSummary(1, 15, Lsn.parse("0/3000000"), 16 << 20);
        third.setLimit(T, 900); // a larger limit changes nothing
        third.markUnsafe("wal_level=minimal");

        WalSummary merged = new WalSummary(1, 15, Lsn.parse("0/1000000"), 16 << 20);
        merged.absorb(first);
        merged.absorb(second);
        assertThat(merged.isUnsafe()).isFalse();
        merged.absorb(third);
        assertThat(merged.limit(T)).isEqualTo(400);
        assertThat(merged.blocks(T)).containsExactly(10, 450);
        assertThat(merged.blocks(T_VM)).containsExactly(1);
        assertThat(merged.unsafeReason()).contains("wal_level=minimal");
        // blocks of a range, as offsets (a relation segment file's view)
        assertThat(merged.blocks(T, 400, 100).stream().boxed().toList()).containsExactly(50);
        assertThat(merged.blocks(T, 0, 11).stream().boxed().toList()).containsExactly(10);
        assertThat(merged.blocks(T, 451, 1_000_000).isEmpty()).isTrue();
    }
}
