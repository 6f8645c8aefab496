package dev.cellar.retention;

import dev.cellar.backup.BackupId;
import dev.cellar.postgres.WalSegmentName;
import dev.cellar.repository.BackupCatalog;
import dev.cellar.repository.BackupInfo;
import dev.cellar.repository.BlockRun;
import dev.cellar.repository.ManifestEntry;
import dev.cellar.repository.RepositoryLayout;
import dev.cellar.storage.Storage;
import dev.cellar.wal.WalFileName;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Computes a {@link PrunePlan} from the repository alone: reads every committed backup and its
 * manifest (to learn which backups' bundles each references), the keep annotations, the WAL
 * listing and the backup directories.
 */
public final class PrunePlanner {

    /** A backup directory without backup.json younger than this may be a failed backup that will be restarted: left alone. */
    public static final Duration FAILED_BACKUP_GRACE = Duration.ofDays(3);
    /** Marks a backup directory whose deletion has begun (a rerun finishes it; it never reads as a backup). */
    public static final String DELETE_MARKER = BackupCatalog.DELETE_MARKER;

    private final Storage storage;
    private final String server;

    public PrunePlanner(Storage storage, String server) {
        this.storage = storage;
        this.server = server;
    }

    /**
     * @param walSegmentSize the server's
     * @param backupRunning  a base backup holds the backup lock: no WAL is planned for deletion
     */
    public PrunePlan plan(RetentionPolicy policy, int minimumRedundancy, Instant now, long walSegmentSize, boolean backupRunning) throws IOException {
        List<BackupInfo> backups = new BackupCatalog(storage, server).list();
        Scan scan = scan(backups);
        Map<String, Set<String>> bundlesUsed = scan.bundlesUsed();
        List<RetentionEvaluation.Candidate> candidates = scan.candidates();
        List<RetentionEvaluation.Verdict> verdicts = RetentionEvaluation.evaluate(candidates, policy, minimumRedundancy, now);
        List<String> notes = new ArrayList<>();
        List<String> delete = new ArrayList<>();
        Set<String> retainedBundles = new HashSet<>();
        List<BackupInfo> retained = new ArrayList<>();
        for (int i = 0; i < backups.size(); i++) {
            if (verdicts.get(i).status().retained()) {
                retained.add(backups.get(i));
                retainedBundles.addAll(bundlesUsed.get(backups.get(i).id()));
            } else {
                delete.add(backups.get(i).id());
            }
        }
        if (retained.isEmpty() && !backups.isEmpty()) {
            throw new IllegalStateException("retention would delete every backup of server " + server + "; refusing");
        }
        // Backup metadata and bundles.
        long backupBytes = 0;
        long bundleBytes = 0;
        List<String> bundleDirs = new ArrayList<>(delete);
        for (String id : delete) {
            backupBytes += topLevelBytes(id);
        }
        for (Storage.Entry e : storage.list(RepositoryLayout.backupsDir(server))) {
            if (!e.directory() || e.name().startsWith(".") || bundleDirs.contains(e.name())
                    || backups.stream().anyMatch(b -> b.id().equals(e.name()))) {
                continue;
            }
            String dir = RepositoryLayout.backupsDir(server) + "/" + e.name();
            if (storage.list(dir).isEmpty()) {
                bundleDirs.add(e.name()); // empty: what a prune interrupted at its very last deletion leaves
            } else if (storage.exists(dir + "/" + DELETE_MARKER)) {
                bundleDirs.add(e.name());
                notes.add("backup directory " + e.name() + " was being deleted by an earlier prune: finishing");
            } else if (isOlderThanGrace(e.name(), now)) {
                bundleDirs.add(e.name());
                notes.add("backup directory " + e.name() + " holds a backup that never committed and is older than "
                        + FAILED_BACKUP_GRACE.toDays() + " days: its unreferenced bundles go");
            } else {
                notes.add("backup directory " + e.name() + " holds an uncommitted backup younger than " + FAILED_BACKUP_GRACE.toDays()
                        + " days (it may be restarted): left alone");
            }
        }
        for (String dir : bundleDirs) {
            String bundles = RepositoryLayout.backupsDir(server) + "/" + dir + "/bundles";
            for (Storage.Entry b : storage.list(bundles)) {
                String bundle = bundleNameOf(b.name());
                if (!retainedBundles.contains("backups/" + dir + "/bundles/" + bundle)) {
                    bundleBytes += b.size();
                }
            }
        }
        // WAL older than the oldest retained backup (not standalone-kept), except history files and standalone ranges.
        List<String> walDelete = new ArrayList<>();
        long walBytes = 0;
        if (backupRunning) {
            notes.add("a base backup is running: no WAL is deleted this time");
        } else if (!retained.isEmpty()) {
            long cutoff = Long.MAX_VALUE;
            List<long[]> standalone = new ArrayList<>();
            for (int i = 0; i < backups.size(); i++) {
                BackupInfo b = backups.get(i);
                RetentionStatus s = verdicts.get(i).status();
                if (!s.retained()) {
                    continue;
                }
                long begin = WalSegmentName.parse(b.beginWal()).segmentNumber(walSegmentSize);
                if (s == RetentionStatus.KEEP_STANDALONE) {
                    standalone.add(new long[] {begin, WalSegmentName.parse(b.endWal()).segmentNumber(walSegmentSize)});
                } else {
                    cutoff = Math.min(cutoff, begin);
                }
            }
            if (cutoff == Long.MAX_VALUE) {
                cutoff = standalone.stream().mapToLong(r -> r[1] + 1).max().orElse(0);
            }
            String walDir = RepositoryLayout.walDir(server);
            for (Storage.Entry d : storage.list(walDir)) {
                if (!d.directory()) {
                    continue;
                }
                List<Storage.Entry> files = storage.list(walDir + "/" + d.name());
                java.util.Map<String, Long> summaryBytes = new java.util.HashMap<>();
                for (Storage.Entry f : files) {
                    if (f.name().endsWith(".summary")) {
                        summaryBytes.put(f.name().substring(0, f.name().length() - ".summary".length()), f.size());
                    }
                }
                for (Storage.Entry f : files) {
                    if (!f.name().endsWith(".zst")) {
                        continue;
                    }
                    var name = WalFileName.parse(f.name().substring(0, f.name().length() - 4));
                    if (name.isEmpty() || name.get().kind() == WalFileName.Kind.TIMELINE_HISTORY) {
                        continue;
                    }
                    long n = name.get().segment().orElseThrow().segmentNumber(walSegmentSize);
                    boolean protectedByKeep = standalone.stream().anyMatch(r -> n >= r[0] && n <= r[1]);
                    if (n < cutoff && !protectedByKeep) {
                        walDelete.add(walDir + "/" + d.name() + "/" + f.name());
                        // its WAL summary goes with it (PruneExecution), counted here
                        walBytes += f.size() + summaryBytes.getOrDefault(f.name().substring(0, f.name().length() - 4), 0L);
                    }
                }
            }
        }
        return new PrunePlan(server, policy.toString(), verdicts, delete, backupBytes, walDelete, walBytes, bundleDirs, bundleBytes, notes);
    }

    /**
     * The committed backups as retention sees them, in the order given (oldest first, as
     * {@link BackupCatalog#list()} gives them): each full or incremental with its parent, the
     * backups whose bundles its manifest references, and its keep annotation. {@code cellar prune}
     * and {@code cellar list-backups} both evaluate these.
     */
    public List<RetentionEvaluation.Candidate> candidates(List<BackupInfo> backups) throws IOException {
        return scan(backups).candidates();
    }

    private record Scan(List<RetentionEvaluation.Candidate> candidates, Map<String, Set<String>> bundlesUsed) {
    }

    /** Reads each backup's manifest (the bundles it uses, and so the backups it references) and its keep annotation. */
    private Scan scan(List<BackupInfo> backups) throws IOException {
        Map<String, Set<String>> bundlesUsed = new LinkedHashMap<>();
        List<RetentionEvaluation.Candidate> candidates = new ArrayList<>();
        for (BackupInfo b : backups) {
            Set<String> deps = new HashSet<>();
            Set<String> bundles = new HashSet<>();
            for (ManifestEntry e : b.manifest(storage).entries()) {
                for (BlockRun r : e.runs()) {
                    bundles.add(r.frame().bundle());
                    String owner = backupOf(r.frame().bundle());
                    if (!owner.equals(b.id())) {
                        deps.add(owner);
                    }
                }
            }
            bundlesUsed.put(b.id(), bundles);
            candidates.add(new RetentionEvaluation.Candidate(b.id(), b.stopTime(), b.type().equals(BackupInfo.FULL), b.parent(), deps,
                    KeepTarget.read(storage, server, b.id()).orElse(null)));
        }
        return new Scan(candidates, bundlesUsed);
    }

    private long topLevelBytes(String id) throws IOException {
        long n = 0;
        for (Storage.Entry e : storage.list(RepositoryLayout.backupsDir(server) + "/" + id)) {
            if (!e.directory()) {
                n += e.size();
            }
        }
        return n;
    }

    private static boolean isOlderThanGrace(String dirName, Instant now) {
        try {
            return BackupId.parse(dirName).plus(FAILED_BACKUP_GRACE).isBefore(now);
        } catch (RuntimeException e) {
            return false; // not a backup ID: not ours to judge
        }
    }

    /** {@code backups/<ID>/bundles/<name>} -> ID. */
    static String backupOf(String bundlePath) {
        String rest = bundlePath.substring("backups/".length());
        return rest.substring(0, rest.indexOf('/'));
    }

    /** A bundle file or its index ({@code <name>.idx}) -> the bundle's name. */
    static String bundleNameOf(String file) {
        return file.endsWith(".idx") ? file.substring(0, file.length() - 4) : file;
    }
}
