package dev.cellar.restore;

import dev.cellar.postgres.Lsn;
import dev.cellar.postgres.WalSegmentName;
import dev.cellar.repository.BackupCatalog;
import dev.cellar.repository.BackupInfo;
import dev.cellar.repository.ServerIdentity;
import dev.cellar.storage.Storage;
import dev.cellar.wal.WalArchive;
import dev.cellar.wal.TimelineHistory;
import dev.cellar.wal.WalFileName;
import dev.cellar.wal.WalIndex;
import dev.cellar.wal.WalRecordReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Decides what a restore needs and refuses, before anything is written, a restore that cannot
 * reach what was asked: a target before the backup's end, a target beyond the archived WAL, a
 * gap in the WAL the recovery must replay, a backup that is not on the target timeline's path.
 *
 * <p>Backup selection: an ID; {@code latest} (the newest committed backup); {@code auto} (the
 * newest backup that ends before the target and lies on the target timeline's path). Timelines:
 * {@code current} (the backup's), {@code latest} (the highest timeline with a history file in the
 * archive), or a number; the path to the target timeline comes from its history file.
 *
 * <p>A time target is checked against the transaction times in the archived WAL: PostgreSQL stops
 * at the first transaction that ends after the target and, since 13, fails when the WAL ends
 * first, so a target after the newest archived commit or abort is refused here, in seconds,
 * instead of after a long replay.
 */
public final class RestorePlanner {

    private final Storage storage;
    private final String server;
    private final ServerIdentity identity;
    private final WalArchive archive;
    private WalIndex.Snapshot index;

    public RestorePlanner(Storage storage, String server, ServerIdentity identity) {
        this.storage = storage;
        this.server = server;
        this.identity = identity;
        this.archive = new WalArchive(storage, server, 3);
    }

    /**
     * @param selector  a backup ID, {@code latest} or {@code auto}
     * @param target    null to replay all archived WAL
     * @param timeline  null or {@code current}, {@code latest}, or a timeline number
     */
    public RestorePlan plan(String selector, RecoveryTarget target, String timeline, boolean exclusive) throws IOException {
        List<BackupInfo> backups = new BackupCatalog(storage, server).list();
        if (backups.isEmpty()) {
            throw new NoSuchElementException("server " + server + " has no backup to restore");
        }
        WalIndex.Snapshot index = WalIndex.readOrList(storage, server, identity.walSegmentSize());
        List<Integer> historyTimelines = new ArrayList<>();
        List<String> historyFiles = new ArrayList<>();
        for (String other : index.otherFiles()) {
            WalFileName f = WalFileName.parse(other).orElseThrow();
            if (f.kind() == WalFileName.Kind.TIMELINE_HISTORY) {
                historyTimelines.add(f.timeline());
                historyFiles.add(f.name());
            }
        }
        // The index may lag (a sweep killed before recording): like PostgreSQL's findNewestTimeLine, look
        // for newer history files by their own path.
        int probe = Math.max(historyTimelines.stream().mapToInt(Integer::intValue).max().orElse(1),
                backups.stream().mapToInt(BackupInfo::timeline).max().orElse(1)) + 1;
        while (archive.contains(WalFileName.parse(String.format("%08X.history", probe)).orElseThrow())) {
            historyTimelines.add(probe);
            historyFiles.add(String.format("%08X.history", probe));
            probe++;
        }
        this.index = index;
        List<BackupInfo> candidates;
        switch (selector) {
            case "latest" -> candidates = List.of(backups.get(backups.size() - 1));
            case "auto" -> {
                candidates = new ArrayList<>(backups);
                java.util.Collections.reverse(candidates);
            }
            default -> candidates = List.of(backups.stream().filter(b -> b.id().equals(selector)).findFirst()
                    .orElseThrow(() -> new NoSuchElementException("server " + server + " has no backup " + selector)));
        }
        RestoreRefusedException firstRefusal = null;
        for (BackupInfo backup : candidates) {
            try {
                return planFor(backup, target, timeline, exclusive, historyTimelines, historyFiles);
            } catch (RestoreRefusedException e) {
                boolean notThisOne = e.getMessage().startsWith(BEFORE_END) || e.getMessage().contains(", which is not an ancestor of timeline ")
                        || e.getMessage().contains(" branched off timeline ");
                if (!selector.equals("auto") || !notThisOne) {
                    throw firstRefusal != null ? firstRefusal : e;
                }
                if (firstRefusal == null) {
                    firstRefusal = e;
                }
            }
        }
        throw new RestoreRefusedException("no backup of server " + server + " ends before the target " + target.describe()
                + " (the oldest, " + backups.get(0).id() + ", ended at " + backups.get(0).stopTime() + ", LSN " + backups.get(0).stopLsn() + ")");
    }

    private static final String BEFORE_END = "the target is before the end of backup";

    private RestorePlan planFor(BackupInfo backup, RecoveryTarget target, String timelineOption, boolean exclusive,
                                List<Integer> historyTimelines, List<String> historyFiles) throws IOException {
        long segSize = identity.walSegmentSize();
        Lsn start = Lsn.parse(backup.startLsn());
        Lsn stop = Lsn.parse(backup.stopLsn());
        // Target before the backup's end: PostgreSQL cannot stop before the backup is consistent.
        if (target instanceof RecoveryTarget.AtLsn l && l.lsn().compareTo(stop) < 0) {
            throw new RestoreRefusedException(BEFORE_END + " " + backup.id() + ": target LSN " + l.lsn() + " < backup end LSN " + stop
                    + "; a backup can only be recovered to a point after it ends. Choose an earlier backup, or 'auto'");
        }
        if (target instanceof RecoveryTarget.Time t && t.at().isBefore(backup.stopTime())) {
            throw new RestoreRefusedException(BEFORE_END + " " + backup.id() + ": target time " + t.at() + " is before the backup ended ("
                    + backup.stopTime() + "); a backup can only be recovered to a point after it ends. Choose an earlier backup, or 'auto'");
        }
        // The target timeline and the path to it.
        int tli;
        String setting;
        String option = timelineOption == null ? "current" : timelineOption;
        switch (option) {
            case "current" -> {
                tli = backup.timeline();
                setting = "current";
            }
            case "latest" -> {
                tli = Math.max(backup.timeline(), historyTimelines.stream().mapToInt(Integer::intValue).max().orElse(1));
                setting = Integer.toString(tli);
            }
            default -> {
                try {
                    tli = Integer.parseInt(option);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("--target-tli must be current, latest or a timeline number, not '" + option + "'");
                }
                if (tli < 1) {
                    throw new IllegalArgumentException("--target-tli must be at least 1");
                }
                setting = Integer.toString(tli);
            }
        }
        TimelineHistory history = history(tli, backup.timeline());
        TimelineHistory.Step backupStep = history.step(backup.timeline());
        if (backupStep == null) {
            throw new RestoreRefusedException("backup " + backup.id() + " is on timeline " + backup.timeline() + ", which is not an ancestor of timeline "
                    + tli + " (" + String.format("%08X.history", tli) + " lists " + history.steps().stream().map(s -> Integer.toString(s.timeline())).toList() + ")");
        }
        if (backupStep.end() != null && stop.compareTo(backupStep.end()) > 0) {
            throw new RestoreRefusedException("timeline " + tli + " branched off timeline " + backup.timeline() + " at " + backupStep.end()
                    + ", before backup " + backup.id() + " ended (" + stop + "); choose a backup taken before the branch");
        }
        long first = start.segmentNumber(segSize);
        long consistent = stop.segmentNumber(segSize);
        List<String> notes = new ArrayList<>();
        // The WAL to make the backup consistent, always.
        String missing = firstMissing(history, first, consistent);
        if (missing != null) {
            throw new RestoreRefusedException("WAL segment " + missing + " is not in the archive, and backup " + backup.id()
                    + " needs every segment from " + name(history, first) + " to " + name(history, consistent) + " to be consistent"
                    + (newestOnPath(history, consistent) == null ? " (has it been archived? run 'cellar archive-wal " + server + "')" : " (a gap in the archive)"));
        }
        long last;
        if (target instanceof RecoveryTarget.Immediate) {
            last = consistent;
        } else if (target instanceof RecoveryTarget.AtLsn l) {
            last = l.lsn().segmentNumber(segSize);
            String gap = firstMissing(history, consistent, last);
            if (gap != null) {
                String newest = newestOnPath(history, consistent);
                if (newest == null || WalSegmentName.parse(newest).segmentNumber(segSize) < WalSegmentName.parse(gap).segmentNumber(segSize)) {
                    throw new RestoreRefusedException("target LSN " + l.lsn() + " is beyond the archived WAL: the newest archived segment on timeline "
                            + tli + "'s path is " + newest + "; archive the WAL up to the target first ('cellar switch-wal " + server + " --archive')");
                }
                throw new RestoreRefusedException("WAL segment " + gap + " is not in the archive (a gap): recovery to LSN " + l.lsn()
                        + " must replay every segment from " + name(history, first) + " to " + name(history, last));
            }
            // PostgreSQL stops at the first record that starts at or after the target, which may lie in the next segment.
            if (present(name(history, last + 1))) {
                last++;
            } else if (!recordAtOrAfter(name(history, last), l.lsn())) {
                throw new RestoreRefusedException("target LSN " + l.lsn() + " is beyond the archived WAL: no record at or after it in "
                        + name(history, last) + ", the newest archived segment on timeline " + tli + "'s path; archive more WAL first ('cellar switch-wal "
                        + server + " --archive')");
            }
        } else {
            last = consistent;
            while (present(name(history, last + 1))) {
                last++;
            }
            String after = newestOnPath(history, last + 1);
            if (after != null) {
                String gap = name(history, last + 1);
                if (target == null) {
                    throw new RestoreRefusedException("WAL segment " + gap + " is not in the archive (a gap), but later WAL is (up to " + after
                            + "): recovery to the end of the archived WAL cannot pass the gap. Give a target before it (e.g. --target-lsn "
                            + WalSegmentName.parse(gap).startLsn(segSize) + ") to restore up to the gap");
                }
                notes.add("WAL segment " + gap + " is missing (a gap; later WAL exists up to " + after + "): recovery cannot go past "
                        + WalSegmentName.parse(gap).startLsn(segSize));
            }
            if (target instanceof RecoveryTarget.Time t) {
                checkTimeReached(t, exclusive, history, consistent, last, first, after != null);
            }
        }
        return new RestorePlan(backup.id(), target, tli, setting, history, first, last, segSize, List.copyOf(historyFiles), List.copyOf(notes));
    }

    /** Refuses a time target that no archived transaction end passes: PostgreSQL would replay everything and fail. */
    private void checkTimeReached(RecoveryTarget.Time t, boolean exclusive, TimelineHistory history, long consistent, long last, long first,
                                  boolean gapAfter) throws IOException {
        for (long n = last; n >= first; n--) {
            WalFileName segment = WalFileName.parse(name(history, n)).orElseThrow();
            byte[] content = archive.read(segment);
            Instant newest = null;
            for (WalRecordReader.Record r : WalRecordReader.read(content, WalSegmentName.parse(segment.name()).startLsn(identity.walSegmentSize()),
                    identity.pgMajor())) {
                if (r.isTransactionEnd()) {
                    newest = r.time();
                }
            }
            if (newest != null) {
                boolean reached = exclusive ? !newest.isBefore(t.at()) : newest.isAfter(t.at());
                if (!reached) {
                    throw new RestoreRefusedException("target time " + t.at() + " is after the newest transaction in the archived WAL (it ended at "
                            + newest + ", in segment " + segment.name() + ")" + (gapAfter ? ", which stops at a gap" : "")
                            + ": PostgreSQL stops at the first transaction ending after the target and fails if the WAL ends first. "
                            + "Archive more WAL ('cellar switch-wal " + server + " --archive') or choose an earlier target");
                }
                return;
            }
        }
        throw new RestoreRefusedException("no transaction ended in the archived WAL from the backup on; the target time " + t.at()
                + " cannot be reached. Archive more WAL ('cellar switch-wal " + server + " --archive') or use --target-immediate");
    }

    private boolean recordAtOrAfter(String segment, Lsn target) throws IOException {
        WalFileName name = WalFileName.parse(segment).orElseThrow();
        for (WalRecordReader.Record r : WalRecordReader.read(archive.read(name), WalSegmentName.parse(segment).startLsn(identity.walSegmentSize()),
                identity.pgMajor())) {
            if (r.lsn().compareTo(target) >= 0) {
                return true;
            }
        }
        return false;
    }

    private TimelineHistory history(int tli, int backupTimeline) throws IOException {
        if (tli == 1) {
            return TimelineHistory.root(1);
        }
        WalFileName file = WalFileName.parse(String.format("%08X.history", tli)).orElseThrow();
        if (!archive.contains(file)) {
            if (tli == backupTimeline) {
                return TimelineHistory.root(tli);
            }
            throw new RestoreRefusedException("timeline " + tli + " has no history file (" + file.name() + ") in the archive of server " + server);
        }
        return TimelineHistory.parse(tli, new String(archive.read(file), StandardCharsets.UTF_8));
    }

    private String name(TimelineHistory history, long segment) {
        long segSize = identity.walSegmentSize();
        return WalSegmentName.ofSegmentNumber(history.timelineOfSegment(segment, segSize), segment, segSize).toString();
    }

    private String firstMissing(TimelineHistory history, long from, long to) throws IOException {
        for (long n = from; n <= to; n++) {
            if (!present(name(history, n))) {
                return name(history, n);
            }
        }
        return null;
    }

    /**
     * Whether a segment is archived, by its own path (design 5.7): the index is a cache of the
     * repository, and a restore neither refuses nor stops short, nor trusts a file, on its word alone.
     */
    private boolean present(String segment) throws IOException {
        return archive.contains(WalFileName.parse(segment).orElseThrow());
    }

    /** The newest archived segment at or after {@code from} on this path, or null. */
    private String newestOnPath(TimelineHistory history, long from) {
        long segSize = identity.walSegmentSize();
        String newest = null;
        long newestNumber = -1;
        for (TimelineHistory.Step step : history.steps()) {
            long n = index.newest(step.timeline());
            if (n >= from && n > newestNumber && history.timelineOfSegment(n, segSize) == step.timeline()) {
                newest = name(history, n);
                newestNumber = n;
            }
        }
        return newest;
    }
}
