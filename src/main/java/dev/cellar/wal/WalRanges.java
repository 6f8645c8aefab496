package dev.cellar.wal;

import dev.cellar.postgres.WalSegmentName;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What is archived, per timeline: runs of consecutive segments and the gaps between them (what
 * {@code cellar list-wal} shows, and what a restore's plan and {@code check} must not find in the
 * range they need).
 */
public final class WalRanges {

    /** Segments {@code first..last} inclusive, {@code count} of them. */
    public record Range(String first, String last, long count) {
    }

    public record Timeline(int timeline, List<Range> ranges, List<Range> gaps) {
    }

    public record Summary(List<Timeline> timelines, List<String> historyFiles, long partialFiles, long backupHistoryFiles) {
        public boolean hasGaps() {
            return timelines.stream().anyMatch(t -> !t.gaps().isEmpty());
        }
    }

    private WalRanges() {
    }

    public static Summary of(List<WalFileName> files, long walSegmentSize) {
        Map<Integer, List<Long>> byTimeline = new TreeMap<>();
        List<String> history = new ArrayList<>();
        long partial = 0;
        long backup = 0;
        for (WalFileName f : files) {
            switch (f.kind()) {
                case SEGMENT -> byTimeline.computeIfAbsent(f.timeline(), t -> new ArrayList<>())
                        .add(f.segment().orElseThrow().segmentNumber(walSegmentSize));
                case TIMELINE_HISTORY -> history.add(f.name());
                case PARTIAL -> partial++;
                case BACKUP_HISTORY -> backup++;
            }
        }
        List<Timeline> timelines = new ArrayList<>();
        for (Map.Entry<Integer, List<Long>> e : byTimeline.entrySet()) {
            int tli = e.getKey();
            List<Long> numbers = e.getValue().stream().sorted().distinct().toList();
            List<Range> ranges = new ArrayList<>();
            List<Range> gaps = new ArrayList<>();
            long start = numbers.get(0);
            long prev = start;
            for (int i = 1; i <= numbers.size(); i++) {
                long n = i < numbers.size() ? numbers.get(i) : Long.MIN_VALUE;
                if (n == prev + 1) {
                    prev = n;
                    continue;
                }
                ranges.add(range(tli, start, prev, walSegmentSize));
                if (i < numbers.size()) {
                    gaps.add(range(tli, prev + 1, n - 1, walSegmentSize));
                    start = n;
                    prev = n;
                }
            }
            timelines.add(new Timeline(tli, List.copyOf(ranges), List.copyOf(gaps)));
        }
        return new Summary(List.copyOf(timelines), List.copyOf(history), partial, backup);
    }

    private static Range range(int timeline, long first, long last, long walSegmentSize) {
        return new Range(WalSegmentName.ofSegmentNumber(timeline, first, walSegmentSize).toString(),
                WalSegmentName.ofSegmentNumber(timeline, last, walSegmentSize).toString(), last - first + 1);
    }
}
