package dev.cellar.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.postgres.WalSegmentName;
import dev.cellar.storage.LocalStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WalIndexTest {

    static final long SEG = 16L << 20;

    @TempDir
    Path dir;

    private static WalFileName segment(int tli, long n) {
        return WalFileName.parse(WalSegmentName.ofSegmentNumber(tli, n, SEG).toString()).orElseThrow();
    }

    private static WalFileName named(String name) {
        return WalFileName.parse(name).orElseThrow();
    }

    @Test
    void recordedSegmentsMergeIntoRangesPerTimelineAndAnswerPresenceAndNewest() throws Exception {
        LocalStorage storage = new LocalStorage(dir);
        WalIndex.record(storage, "main", SEG, List.of(segment(1, 2), segment(1, 3), segment(1, 5)));
        WalIndex.Snapshot s = WalIndex.record(storage, "main", SEG, List.of(segment(1, 4), segment(2, 6), named("00000002.history"),
                named("000000010000000000000006.partial")));

        assertThat(s.ranges().get(1)).containsExactly(new long[] {2, 5});
        assertThat(s.ranges().get(2)).containsExactly(new long[] {6, 6});
        assertThat(s.contains(1, 4)).isTrue();
        assertThat(s.contains(1, 6)).isFalse();
        assertThat(s.contains("000000020000000000000006")).isTrue();
        assertThat(s.newest(1)).isEqualTo(5);
        assertThat(s.newest(3)).isEqualTo(-1);
        assertThat(s.segmentCount()).isEqualTo(5);
        assertThat(s.otherFiles()).containsExactly("000000010000000000000006.partial", "00000002.history");
        // Read back from the repository: the same answers.
        WalIndex.Snapshot read = WalIndex.read(storage, "main").orElseThrow();
        assertThat(read.files()).extracting(WalFileName::name).containsExactly(
                "000000010000000000000002", "000000010000000000000003", "000000010000000000000004", "000000010000000000000005",
                "000000010000000000000006.partial", "00000002.history", "000000020000000000000006");
    }

    @Test
    void aRebuildFromTheListingEqualsWhatTheSweepRecordedAndAMissingIndexIsNeverWrittenByReaders() throws Exception {
        LocalStorage storage = new LocalStorage(dir);
        WalArchive archive = new WalArchive(storage, "main", 3);
        List<WalFileName> stored = new ArrayList<>();
        for (long n : new long[] {1, 2, 3, 7, 8}) {
            archive.store(segment(1, n), new byte[] {(byte) n});
            stored.add(segment(1, n));
        }
        archive.store(named("00000002.history"), "1\t0/9000000\tno recovery target specified\n".getBytes());
        stored.add(named("00000002.history"));

        WalIndex.Snapshot listed = WalIndex.readOrList(storage, "main", SEG);
        assertThat(Files.exists(dir.resolve(WalIndex.path("main")))).as("readers do not write the index").isFalse();
        assertThat(listed.ranges().get(1)).containsExactly(new long[] {1, 3}, new long[] {7, 8});

        WalIndex.Snapshot recorded = WalIndex.record(storage, "main", SEG, stored);
        Files.delete(dir.resolve(WalIndex.path("main")));
        Files.delete(dir.resolve(WalIndex.path("main") + ".copy"));
        WalIndex.Snapshot rebuilt = WalIndex.rebuild(storage, "main", SEG);
        assertThat(rebuilt.files()).extracting(WalFileName::name).isEqualTo(recorded.files().stream().map(WalFileName::name).toList());
        assertThat(WalIndex.read(storage, "main").orElseThrow().segmentCount()).isEqualTo(5);
    }
}
