package dev.cellar.wal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class WalRangesTest {

    static final long SEG = 16L << 20;

    static List<WalFileName> names(String... n) {
        return Stream.of(n).map(s -> WalFileName.parse(s).orElseThrow()).toList();
    }

    @Test
    void consecutiveSegmentsFormOneRangeAcrossALogBoundary() {
        var s = WalRanges.of(names("0000000100000000000000FE", "0000000100000000000000FF", "000000010000000100000000"), SEG);
        assertThat(s.hasGaps()).isFalse();
        assertThat(s.timelines()).singleElement().satisfies(t -> assertThat(t.ranges())
                .containsExactly(new WalRanges.Range("0000000100000000000000FE", "000000010000000100000000", 3)));
    }

    @Test
    void missingSegmentsAreGapsPerTimeline() {
        var s = WalRanges.of(names("000000010000000000000001", "000000010000000000000002", "000000010000000000000005",
                "00000002.history", "000000020000000000000005", "000000020000000000000006", "000000010000000000000005.partial",
                "000000010000000000000002.00000028.backup"), SEG);
        assertThat(s.hasGaps()).isTrue();
        WalRanges.Timeline one = s.timelines().get(0);
        assertThat(one.ranges()).containsExactly(new WalRanges.Range("000000010000000000000001", "000000010000000000000002", 2),
                new WalRanges.Range("000000010000000000000005", "000000010000000000000005", 1));
        assertThat(one.gaps()).containsExactly(new WalRanges.Range("000000010000000000000003", "000000010000000000000004", 2));
        assertThat(s.timelines().get(1).gaps()).isEmpty();
        assertThat(s.historyFiles()).containsExactly("00000002.history");
        assertThat(s.partialFiles()).isEqualTo(1);
        assertThat(s.backupHistoryFiles()).isEqualTo(1);
    }

    @Test
    void nothingArchivedIsNoTimelines() {
        assertThat(WalRanges.of(List.of(), SEG).timelines()).isEmpty();
    }
}
