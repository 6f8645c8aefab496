package dev.cellar.restore;

import dev.cellar.postgres.Lsn;
import dev.cellar.postgres.WalSegmentName;
import dev.cellar.wal.TimelineHistory;
import dev.cellar.wal.WalFileName;
import java.util.ArrayList;
import java.util.List;

/**
 * What a restore will do: which backup, to which target on which timeline, and exactly which WAL
 * it stages ({@code firstSegment..lastSegment} along the timeline path, plus every timeline
 * history file).
 *
 * @param timelineSetting the value written as {@code recovery_target_timeline}
 * @param notes           things the operator should know (a gap after the target, ...)
 */
public record RestorePlan(String backupId, RecoveryTarget target, int targetTimeline, String timelineSetting,
                          TimelineHistory history, long firstSegment, long lastSegment, long walSegmentSize,
                          List<String> historyFiles, List<String> notes) {

    /** The segments to stage, in order. */
    public List<WalFileName> segments() {
        List<WalFileName> out = new ArrayList<>();
        for (long n = firstSegment; n <= lastSegment; n++) {
            int tli = history.timelineOfSegment(n, walSegmentSize);
            out.add(WalFileName.parse(WalSegmentName.ofSegmentNumber(tli, n, walSegmentSize).toString()).orElseThrow());
        }
        return out;
    }

    /** A compact form for a job's execution context (so a restart restores exactly what was planned). */
    public String encode() {
        StringBuilder steps = new StringBuilder();
        for (TimelineHistory.Step s : history.steps()) {
            steps.append(steps.isEmpty() ? "" : ",").append(s.timeline()).append('@').append(s.begin()).append('-')
                    .append(s.end() == null ? "" : s.end());
        }
        return String.join("|", backupId, escape(RecoveryTarget.encode(target)), Integer.toString(targetTimeline), timelineSetting,
                steps.toString(), Long.toString(firstSegment), Long.toString(lastSegment), Long.toString(walSegmentSize),
                String.join(",", historyFiles), escape(String.join("\u001f", notes)));
    }

    public static RestorePlan decode(String s) {
        String[] f = s.split("\\|", -1);
        List<TimelineHistory.Step> steps = new ArrayList<>();
        for (String step : f[4].split(",")) {
            int at = step.indexOf('@');
            int dash = step.indexOf('-', at);
            String end = step.substring(dash + 1);
            steps.add(new TimelineHistory.Step(Integer.parseInt(step.substring(0, at)), Lsn.parse(step.substring(at + 1, dash)),
                    end.isEmpty() ? null : Lsn.parse(end)));
        }
        int tli = Integer.parseInt(f[2]);
        return new RestorePlan(f[0], RecoveryTarget.decode(unescape(f[1])), tli, f[3], new TimelineHistory(tli, List.copyOf(steps)),
                Long.parseLong(f[5]), Long.parseLong(f[6]), Long.parseLong(f[7]),
                f[8].isEmpty() ? List.of() : List.of(f[8].split(",")), f[9].isEmpty() ? List.of() : List.of(unescape(f[9]).split("\u001f")));
    }

    /** Free text (a restore point name, a note) may hold the field separator: '%' and '|' are written as %25 and %7C. */
    private static String escape(String s) {
        return s.replace("%", "%25").replace("|", "%7C");
    }

    private static String unescape(String s) {
        return s.replace("%7C", "|").replace("%25", "%");
    }
}
