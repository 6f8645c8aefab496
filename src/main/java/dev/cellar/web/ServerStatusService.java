package dev.cellar.web;

import dev.cellar.config.CellarSettings;
import dev.cellar.config.ServerSettings;
import dev.cellar.postgres.WalSegmentName;
import dev.cellar.repository.BackupCatalog;
import dev.cellar.repository.BackupInfo;
import dev.cellar.repository.RepositoryLayout;
import dev.cellar.storage.Storage;
import dev.cellar.storage.StorageOpener;
import dev.cellar.verify.VerificationRecord;
import dev.cellar.wal.WalArchive;
import dev.cellar.wal.WalFileName;
import dev.cellar.wal.WalIndex;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The state of every configured server, read from the repository: cheap reads only (backup.json,
 * the WAL index, verification.json, a listing of wal-errors/ and of the spool), never a connection
 * to PostgreSQL, and at most once per {@link #MAX_STALENESS} however many pages, scrapes and health
 * probes ask. All of them share one snapshot.
 */
public class ServerStatusService {

    /** How long a snapshot is served before the repository is read again. */
    public static final Duration MAX_STALENESS = Duration.ofSeconds(5);

    private final CellarSettings settings;
    private final ExpiringSnapshot<Map<String, ServerStatus>> snapshot;

    public ServerStatusService(CellarSettings settings, Clock clock) {
        this.settings = settings;
        this.snapshot = new ExpiringSnapshot<>(clock, MAX_STALENESS, this::read);
    }

    /** Every configured server, by name (sorted), from a snapshot at most {@link #MAX_STALENESS} old. */
    public Map<String, ServerStatus> servers() {
        return snapshot.get();
    }

    /** Forgets the snapshot (after an action that changes the repository, such as a restart the page asked for). */
    public void invalidate() {
        snapshot.invalidate();
    }

    private Map<String, ServerStatus> read(Instant now) {
        Map<String, ServerStatus> out = new LinkedHashMap<>();
        List<String> names = new ArrayList<>(settings.servers().keySet());
        names.sort(null);
        if (names.isEmpty()) {
            return out;
        }
        try (Storage storage = StorageOpener.open(settings.requireRepository())) {
            for (String name : names) {
                out.put(name, read(settings.servers().get(name), storage, now));
            }
        } catch (IOException | RuntimeException e) {
            for (String name : names) {
                if (!out.containsKey(name)) {
                    out.put(name, unreadable(settings.servers().get(name), now, e));
                }
            }
        }
        return out;
    }

    static ServerStatus read(ServerSettings server, Storage storage, Instant now) {
        String name = server.name();
        Long spool = spoolQueue(server.walSpool());
        try {
            List<BackupInfo> backups = new BackupCatalog(storage, name).list();
            BackupInfo newest = backups.isEmpty() ? null : backups.get(backups.size() - 1);
            ServerStatus.LastBackup lastBackup = newest == null ? null : new ServerStatus.LastBackup(newest.id(), newest.type(),
                    newest.stopTime().toString(), seconds(newest.stopTime(), now), newest.sizeBytes(), newest.storedBytes());
            boolean backupTooOld = server.lastBackupMaximumAge() != null
                    && (newest == null || newest.stopTime().plus(server.lastBackupMaximumAge().duration()).isBefore(now));

            ServerStatus.LastWal lastWal = lastWal(storage, name, now);
            boolean walTooOld = server.lastWalMaximumAge() != null && lastWal != null && lastWal.ageSeconds() != null
                    && lastWal.ageSeconds() > server.lastWalMaximumAge().duration().toSeconds();

            ServerStatus.LastVerification verification = null;
            for (BackupInfo b : backups) {
                Optional<VerificationRecord> v = VerificationRecord.read(storage, name, b.id());
                if (v.isPresent() && (verification == null || Instant.parse(verification.time()).isBefore(v.get().time()))) {
                    VerificationRecord r = v.get();
                    verification = new ServerStatus.LastVerification(r.backupId(), r.passed(), r.time().toString(), seconds(r.time(), now),
                            r.rtoSeconds(), r.restoreSeconds(), r.replaySeconds(), r.failure());
                }
            }
            int walErrors = storage.list(RepositoryLayout.walErrorsDir(name)).size();

            List<String> problems = new ArrayList<>();
            if (backupTooOld) {
                problems.add(newest == null
                        ? "no backup yet, and last-backup-maximum-age is " + server.lastBackupMaximumAge()
                        : "the newest backup " + newest.id() + " ended " + human(lastBackup.ageSeconds())
                                + " ago, more than last-backup-maximum-age " + server.lastBackupMaximumAge());
            }
            if (walErrors > 0) {
                problems.add(walErrors + " WAL file(s) kept aside in wal-errors/ by the sweep");
            }
            return new ServerStatus(name, now.toString(), lastBackup, text(server.lastBackupMaximumAge()), backupTooOld, backups.size(),
                    lastWal, text(server.lastWalMaximumAge()), walTooOld, verification, spool, server.spoolMaximumFiles(), walErrors,
                    List.copyOf(problems), null);
        } catch (IOException | RuntimeException e) {
            return unreadable(server, now, e);
        }
    }

    private static ServerStatus.LastWal lastWal(Storage storage, String server, Instant now) throws IOException {
        Optional<WalIndex.Snapshot> index = WalIndex.read(storage, server);
        if (index.isPresent()) {
            WalIndex.Snapshot s = index.get();
            int timeline = -1;
            for (Map.Entry<Integer, List<long[]>> e : s.ranges().entrySet()) {
                if (!e.getValue().isEmpty()) {
                    timeline = Math.max(timeline, e.getKey());
                }
            }
            if (timeline < 0) {
                return null;
            }
            String segment = WalSegmentName.ofSegmentNumber(timeline, s.newest(timeline), s.walSegmentSize()).toString();
            return new ServerStatus.LastWal(segment, timeline, s.segmentCount(), s.updated().toString(), seconds(s.updated(), now));
        }
        // No index yet (nothing swept since the index came, or a repository of an older version): the listing.
        List<WalFileName> files = new WalArchive(storage, server, 3).list();
        WalFileName newest = null;
        long segments = 0;
        for (WalFileName f : files) {
            if (f.kind() == WalFileName.Kind.SEGMENT) {
                segments++;
                if (newest == null || f.timeline() > newest.timeline()
                        || (f.timeline() == newest.timeline() && f.name().compareTo(newest.name()) > 0)) {
                    newest = f;
                }
            }
        }
        return newest == null ? null : new ServerStatus.LastWal(newest.name(), newest.timeline(), segments, null, null);
    }

    private static ServerStatus unreadable(ServerSettings server, Instant now, Exception e) {
        String why = "cannot read the repository: " + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        return new ServerStatus(server.name(), now.toString(), null, text(server.lastBackupMaximumAge()), false, 0, null,
                text(server.lastWalMaximumAge()), false, null, spoolQueue(server.walSpool()), server.spoolMaximumFiles(), 0,
                List.of(why), why);
    }

    /** Files waiting in the spool, as {@code cellar check} counts them (names not starting with '.'); null without a spool. */
    static Long spoolQueue(Path spool) {
        if (spool == null || !Files.isDirectory(spool)) {
            return null;
        }
        try (Stream<Path> files = Files.list(spool)) {
            return files.filter(p -> !p.getFileName().toString().startsWith(".")).count();
        } catch (IOException e) {
            return null;
        }
    }

    static String human(long s) {
        return s < 120 ? s + " s" : s < 7200 ? (s / 60) + " min" : s < 172_800 ? (s / 3600) + " h" : (s / 86_400) + " days";
    }

    private static long seconds(Instant then, Instant now) {
        return Math.max(0, Duration.between(then, now).toSeconds());
    }

    private static String text(Object limit) {
        return limit == null ? null : limit.toString();
    }
}
