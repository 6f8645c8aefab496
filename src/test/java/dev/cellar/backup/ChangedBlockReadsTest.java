package dev.cellar.backup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.postgres.Lsn;
import dev.cellar.repository.ManifestEntry;
import dev.cellar.wal.ChangedBlockMapReader;
import dev.cellar.wal.WalSummary;
import dev.cellar.wal.WalSummary.RelationFork;
import java.util.BitSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which blocks a WAL-derived incremental reads, file by file (docs/design.md 5.6). */
class ChangedBlockReadsTest {

    private static final long MIB = 1 << 20;
    private static final RelationFork ACCOUNTS = new RelationFork(1663, 5, 16384, 0);

    private static ManifestEntry parent(String path, long size) {
        int bs = BlockSizes.forSize(size);
        int blocks = (int) ((size + bs - 1) / bs);
        return new ManifestEntry(path, ManifestEntry.Type.FILE, size, 0, 0600, "x", bs, new long[blocks], List.of(), null, List.of());
    }

    private static ChangedBlockReads reads(WalSummary... summaries) {
        return new ChangedBlockReads(TestMaps.merge(summaries));
    }

    private static WalSummary summary() {
        return new WalSummary(1, 15, Lsn.parse("0/3000000"), 16 * MIB);
    }

    @Test
    void onlyTheBlocksHoldingModifiedPagesAreReadAndAFileTheWalDidNotTouchIsNotRead() {
        WalSummary s = summary();
        s.markModified(ACCOUNTS, 0);
        s.markModified(ACCOUNTS, 9); // 100 MiB file: 32 KiB blocks of 4 pages; page 9 is in block 2
        ChangedBlockReads r = reads(s);
        ChangedBlockReads.Decision d = r.decide("base/5/16384", 100 * MIB, parent("base/5/16384", 100 * MIB));
        assertThat(d.kind()).isEqualTo(ChangedBlockReads.Kind.BLOCKS);
        BitSet read = new BitSet();
        read.set(0, 3200);
        read.andNot(d.unread());
        assertThat(read.stream().boxed().toList()).containsExactly(0, 2);

        assertThat(r.decide("base/5/16385", 100 * MIB, parent("base/5/16385", 100 * MIB)).kind()).isEqualTo(ChangedBlockReads.Kind.UNCHANGED);
    }

    @Test
    void theSecondSegmentFileMapsItsOwnBlocks() {
        WalSummary s = summary();
        s.markModified(ACCOUNTS, 131072 + 8); // page 8 of 16384.1 (a 1 GiB file: 128 KiB blocks of 16 pages)
        ChangedBlockReads.Decision first = reads(s).decide("base/5/16384", 1L << 30, parent("base/5/16384", 1L << 30));
        assertThat(first.kind()).isEqualTo(ChangedBlockReads.Kind.UNCHANGED);
        ChangedBlockReads.Decision second = reads(s).decide("base/5/16384.1", 200 * MIB, parent("base/5/16384.1", 200 * MIB));
        assertThat(second.kind()).isEqualTo(ChangedBlockReads.Kind.BLOCKS);
        assertThat(second.unread().get(0)).isTrue(); // 200 MiB: 64 KiB blocks of 8 pages; page 8 is block 1
        assertThat(second.unread().get(1)).isFalse();
    }

    @Test
    void growthAndATruncationBelowTheFileAreReadOrReadWhole() {
        WalSummary grown = summary();
        ChangedBlockReads.Decision d = reads(grown).decide("base/5/16384", 100 * MIB + 64 * 1024, parent("base/5/16384", 100 * MIB));
        assertThat(d.kind()).isEqualTo(ChangedBlockReads.Kind.BLOCKS);
        assertThat(d.unread().cardinality()).isEqualTo(3200); // the parent's blocks; the two new ones are read

        WalSummary truncated = summary();
        truncated.setLimit(ACCOUNTS, 12_000); // inside the first segment: blocks from page 12,000 (block 3,000) on are read
        ChangedBlockReads.Decision t = reads(truncated).decide("base/5/16384", 100 * MIB, parent("base/5/16384", 100 * MIB));
        assertThat(t.unread().cardinality()).isEqualTo(3000);
        ChangedBlockReads.Decision below = reads(truncated).decide("base/5/16384.1", 10 * MIB, parent("base/5/16384.1", 10 * MIB));
        assertThat(below.kind()).isEqualTo(ChangedBlockReads.Kind.WHOLE);

        WalSummary mostly = summary();
        for (int p = 0; p < 12_000; p++) {
            mostly.markModified(ACCOUNTS, p);
        }
        assertThat(reads(mostly).decide("base/5/16384", 100 * MIB, parent("base/5/16384", 100 * MIB)).kind())
                .as("at least 90% of the blocks: read whole").isEqualTo(ChangedBlockReads.Kind.WHOLE);
    }

    @Test
    void everyOtherFileIsReadWholeAndCompared() {
        WalSummary s = summary();
        s.setLimit(RelationFork.sentinel(1663, 7), 0); // database 7 created or dropped
        ChangedBlockReads r = reads(s);
        assertThat(r.decide("base/7/16384", MIB, parent("base/7/16384", MIB)).kind()).isEqualTo(ChangedBlockReads.Kind.WHOLE);
        assertThat(r.decide("base/5/16384", MIB, null).kind()).as("new path").isEqualTo(ChangedBlockReads.Kind.WHOLE);
        assertThat(r.decide("base/5/16384_vm", 8192, parent("base/5/16384_vm", 8192)).kind()).isEqualTo(ChangedBlockReads.Kind.WHOLE);
        assertThat(r.decide("base/5/16384_fsm", 24576, parent("base/5/16384_fsm", 24576)).kind()).isEqualTo(ChangedBlockReads.Kind.WHOLE);
        assertThat(r.decide("base/5/16384_init", 8192, parent("base/5/16384_init", 8192)).kind()).isEqualTo(ChangedBlockReads.Kind.WHOLE);
        assertThat(r.decide("base/5/PG_VERSION", 3, parent("base/5/PG_VERSION", 3)).kind()).isEqualTo(ChangedBlockReads.Kind.WHOLE);
        assertThat(r.decide("global/pg_control", 8192, parent("global/pg_control", 8192)).kind()).isEqualTo(ChangedBlockReads.Kind.WHOLE);
        assertThat(r.decide("base/5/16384", 8193, parent("base/5/16384", 8193)).kind()).as("odd size").isEqualTo(ChangedBlockReads.Kind.WHOLE);
        assertThat(r.decide("base/5/16384", 2 * MIB, parent("base/5/16384", MIB)).kind()).as("block size changed").isEqualTo(ChangedBlockReads.Kind.WHOLE);
        assertThat(r.decide("global/1262", 8192, parent("global/1262", 8192)).kind()).as("a shared catalog the WAL did not touch")
                .isEqualTo(ChangedBlockReads.Kind.UNCHANGED);
    }

    @Test
    void relationFilesAreParsedWithTheirTablespaceDatabaseForkAndSegment() {
        assertThat(RelationFile.parse("base/5/16384.2")).contains(new RelationFile(1663, 5, 16384, 0, 2));
        assertThat(RelationFile.parse("global/1262_vm")).contains(new RelationFile(1664, 0, 1262, 2, 0));
        assertThat(RelationFile.parse("pg_tblspc/16390/PG_15_202209061/16391/16400_fsm.1")).contains(new RelationFile(16390, 16391, 16400, 1, 1));
        assertThat(RelationFile.parse("base/5/pg_filenode.map")).isEmpty();
        assertThat(RelationFile.parse("pg_xact/0000")).isEmpty();
        assertThat(RelationFile.parse("base/5/16384.2").orElseThrow().firstBlock()).isEqualTo(262144);
    }

    /** Builds maps the way the reader does, from summaries in WAL order. */
    static final class TestMaps {
        static dev.cellar.wal.ChangedBlockMap merge(WalSummary... summaries) {
            return ChangedBlockMapReader.merge(Lsn.parse("0/3000000"), Lsn.parse("0/4000000"), List.of(summaries));
        }
    }
}
