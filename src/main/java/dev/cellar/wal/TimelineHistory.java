package dev.cellar.wal;

import dev.cellar.postgres.Lsn;
import java.util.ArrayList;
import java.util.List;

/**
 * A timeline's history ({@code 0000000N.history}, written by PostgreSQL when timeline N starts):
 * one line per ancestor, {@code parentTLI <tab> switchpoint <tab> reason}, oldest first; the
 * switch point is where that ancestor ended and its child began. Timeline 1 has no history file.
 */
public record TimelineHistory(int timeline, List<Step> steps) {

    /**
     * One timeline of the path to {@link #timeline}: WAL from {@code begin} (inclusive) to {@code end}
     * (exclusive; null for the target timeline itself, which is open) belongs to it.
     */
    public record Step(int timeline, Lsn begin, Lsn end) {
        public boolean contains(Lsn lsn) {
            return lsn.compareTo(begin) >= 0 && (end == null || lsn.compareTo(end) < 0);
        }
    }

    /** The history of timeline 1, or of a timeline whose history file is absent: itself from the start. */
    public static TimelineHistory root(int timeline) {
        return new TimelineHistory(timeline, List.of(new Step(timeline, Lsn.ZERO, null)));
    }

    /** Parses a history file's content; a malformed line is an error naming it. */
    public static TimelineHistory parse(int timeline, String content) {
        List<Step> steps = new ArrayList<>();
        Lsn begin = Lsn.ZERO;
        int lineNumber = 0;
        for (String line : content.split("\n")) {
            lineNumber++;
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            String[] f = l.split("\\s+", 3);
            try {
                int parent = Integer.parseInt(f[0]);
                Lsn switchPoint = Lsn.parse(f[1]);
                if (parent >= timeline || (!steps.isEmpty() && parent <= steps.get(steps.size() - 1).timeline())
                        || switchPoint.compareTo(begin) < 0) {
                    throw new IllegalArgumentException("out of order");
                }
                steps.add(new Step(parent, begin, switchPoint));
                begin = switchPoint;
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(String.format("%08X.history line %d is not 'parentTLI switchpoint reason': %s",
                        timeline, lineNumber, line));
            }
        }
        steps.add(new Step(timeline, begin, null));
        return new TimelineHistory(timeline, List.copyOf(steps));
    }

    /** The step of this path for a timeline, or null when the timeline is not on it. */
    public Step step(int tli) {
        return steps.stream().filter(s -> s.timeline() == tli).findFirst().orElse(null);
    }

    /**
     * The timeline whose file holds segment {@code segmentNumber} on this path: the newest timeline
     * that began at or before the segment's end (PostgreSQL reads the segment where a timeline
     * switches from the new timeline's file, which starts as a copy of the old one).
     */
    public int timelineOfSegment(long segmentNumber, long walSegmentSize) {
        int tli = steps.get(0).timeline();
        for (Step s : steps) {
            if (s.begin().segmentNumber(walSegmentSize) <= segmentNumber) {
                tli = s.timeline();
            }
        }
        return tli;
    }
}
