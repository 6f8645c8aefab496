package dev.cellar.check;

import dev.cellar.config.ServerSettings;
import dev.cellar.postgres.PostgresConnector;
import dev.cellar.repository.RepositoryFormatException;
import dev.cellar.repository.ServerIdentity;
import dev.cellar.storage.Storage;
import dev.cellar.storage.StorageOpener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Runs the checks of {@code cellar check SERVER}, in Barman's spirit: one line per check, each
 * with what it found and, on failure, what to do. Checks that need a connection are skipped when
 * there is none, so the first failure is the one an operator sees first.
 */
public final class ServerChecker {

    public static final String POSTGRESQL = "postgresql";
    public static final String SERVER_VERSION = "server-version";
    public static final String WAL_LEVEL = "wal-level";
    public static final String ARCHIVE_MODE = "archive-mode";
    public static final String ARCHIVE_COMMAND = "archive-command";
    public static final String BACKUP_PRIVILEGES = "backup-privileges";
    public static final String ARCHIVER = "archiver";
    public static final String PGDATA = "pgdata";
    public static final String REPOSITORY = "repository";
    public static final String WAL_SPOOL = "wal-spool";
    public static final String SYSTEM_IDENTIFIER = "system-identifier";
    public static final String WAL_ERRORS = "wal-errors";
    public static final String WAL_CONTINUITY = "wal-continuity";
    public static final String WAL_INDEX = "wal-index";
    public static final String WAL_SUMMARIES = "wal-summaries";
    public static final String VERIFICATION = "verification";
    public static final String LAST_WAL_AGE = "last-wal-age";
    public static final String SPOOL_QUEUE = "wal-spool-queue";

    /** The oldest major Cellar supports. */
    public static final int MINIMUM_MAJOR = 13;

    private final PostgresConnector connector;
    private final String repositoryUri;

    public ServerChecker(PostgresConnector connector, String repositoryUri) {
        this.connector = connector;
        this.repositoryUri = repositoryUri;
    }

    public CheckReport check(ServerSettings server) {
        List<CheckOutcome> out = new ArrayList<>();
        Optional<ServerIdentity> live = Optional.empty();
        try (Connection c = connectOrReport(server, out)) {
            if (c != null) {
                live = checkServer(c, server, out);
            }
        } catch (SQLException e) {
            out.add(CheckOutcome.failed("postgresql", "query failed: " + e.getMessage(), "see the PostgreSQL log"));
        }
        checkPgdata(server, out);
        checkRepository(server, live, out);
        checkSpool(server, out);
        return new CheckReport(server.name(), List.copyOf(out));
    }

    private Connection connectOrReport(ServerSettings server, List<CheckOutcome> out) {
        PostgresConnector.Target target = connector.target(server.conninfo());
        try {
            Connection c = connector.connect(server.conninfo(), server.passfilePath());
            String version = single(c, "SELECT current_setting('server_version')");
            out.add(CheckOutcome.ok(POSTGRESQL, target + ", PostgreSQL " + version));
            return c;
        } catch (SQLException e) {
            String state = e.getSQLState() == null ? "" : e.getSQLState();
            String hint;
            if (state.startsWith("28")) {
                hint = "check the password (server passfile, PGPASSWORD or ~/.pgpass) and pg_hba.conf for " + target;
            } else if (state.startsWith("08")) {
                hint = "is PostgreSQL running and listening on " + target.host() + ":" + target.port() + "?";
            } else if (state.equals("3D000")) {
                hint = "the database in conninfo does not exist; 'postgres' is usual";
            } else {
                hint = "check conninfo " + target;
            }
            out.add(CheckOutcome.failed(POSTGRESQL, firstLine(e.getMessage()), hint));
            for (String name : List.of(SERVER_VERSION, WAL_LEVEL, ARCHIVE_MODE, ARCHIVE_COMMAND, BACKUP_PRIVILEGES, ARCHIVER, LAST_WAL_AGE)) {
                out.add(CheckOutcome.skipped(name, "no connection"));
            }
            return null;
        }
    }

    private Optional<ServerIdentity> checkServer(Connection c, ServerSettings server, List<CheckOutcome> out) throws SQLException {
        int versionNum = Integer.parseInt(single(c, "SELECT current_setting('server_version_num')"));
        int major = versionNum / 10000;
        if (major >= MINIMUM_MAJOR) {
            out.add(CheckOutcome.ok(SERVER_VERSION, "major " + major));
        } else {
            out.add(CheckOutcome.failed(SERVER_VERSION, "major " + major, "Cellar supports PostgreSQL " + MINIMUM_MAJOR + " and newer"));
        }

        String walLevel = single(c, "SELECT current_setting('wal_level')");
        if (walLevel.equals("replica") || walLevel.equals("logical")) {
            out.add(CheckOutcome.ok(WAL_LEVEL, walLevel));
        } else {
            out.add(CheckOutcome.failed(WAL_LEVEL, "wal_level is " + walLevel,
                    "set wal_level = replica in postgresql.conf and restart PostgreSQL"));
        }

        String archiveMode = single(c, "SELECT current_setting('archive_mode')");
        if (archiveMode.equals("on") || archiveMode.equals("always")) {
            out.add(CheckOutcome.ok(ARCHIVE_MODE, archiveMode));
        } else {
            out.add(CheckOutcome.failed(ARCHIVE_MODE, "archive_mode is " + archiveMode,
                    "set archive_mode = on in postgresql.conf and restart PostgreSQL"));
        }

        out.add(checkArchiveCommand(c, server, major));
        boolean superuser = "on".equals(single(c, "SELECT current_setting('is_superuser')"));
        out.add(checkPrivileges(c, major, superuser));
        out.add(checkArchiver(c));
        out.add(checkLastWalAge(c, server));

        String sysid = single(c, "SELECT system_identifier::text FROM pg_control_system()");
        long segSize = Long.parseLong(single(c, "SELECT setting FROM pg_settings WHERE name = 'wal_segment_size'"))
                * unitBytes(single(c, "SELECT coalesce(unit, 'B') FROM pg_settings WHERE name = 'wal_segment_size'"));
        return Optional.of(new ServerIdentity(sysid, major, segSize));
    }

    private CheckOutcome checkArchiveCommand(Connection c, ServerSettings server, int major) {
        String expected = "archive_command = '<cellar>/bin/cellar-wal-archive " + server.walSpool() + " %p %f'";
        try {
            if (major >= 15) {
                String library = single(c, "SELECT current_setting('archive_library')");
                if (!library.isEmpty()) {
                    return CheckOutcome.failed(ARCHIVE_COMMAND, "archive_library is '" + library + "', so archive_command is ignored",
                            "set archive_library = '' and " + expected);
                }
            }
            String cmd = single(c, "SELECT current_setting('archive_command')");
            if (cmd.isEmpty() || cmd.equals("(disabled)")) {
                return CheckOutcome.failed(ARCHIVE_COMMAND, "archive_command is empty", "set " + expected);
            }
            if (!cmd.contains("cellar-wal-archive")) {
                return CheckOutcome.failed(ARCHIVE_COMMAND, "archive_command does not call cellar-wal-archive: '" + cmd + "'", "set " + expected);
            }
            if (!Arrays.asList(cmd.split("[\\s'\"]+")).contains(server.walSpool().toString())) {
                return CheckOutcome.failed(ARCHIVE_COMMAND, "archive_command does not archive into this server's spool " + server.walSpool()
                        + ": '" + cmd + "'", "set " + expected);
            }
            return CheckOutcome.ok(ARCHIVE_COMMAND, cmd);
        } catch (SQLException e) {
            return CheckOutcome.failed(ARCHIVE_COMMAND, "cannot read archive_command: " + firstLine(e.getMessage()),
                    "GRANT pg_read_all_settings TO the backup role (sql/postgres/backup-role.sql)");
        }
    }

    private CheckOutcome checkPrivileges(Connection c, int major, boolean superuser) throws SQLException {
        if (superuser) {
            return CheckOutcome.ok(BACKUP_PRIVILEGES, "superuser");
        }
        List<String> functions = major >= 15
                ? List.of("pg_backup_start(text, boolean)", "pg_backup_stop(boolean)", "pg_switch_wal()")
                : List.of("pg_start_backup(text, boolean, boolean)", "pg_stop_backup(boolean, boolean)", "pg_switch_wal()");
        List<String> missing = new ArrayList<>();
        for (String f : functions) {
            if (!bool(c, "SELECT has_function_privilege(current_user, ?, 'EXECUTE')", f)) {
                missing.add(f);
            }
        }
        for (String role : List.of("pg_read_all_settings", "pg_read_all_stats")) {
            if (!bool(c, "SELECT pg_has_role(current_user, ?, 'USAGE')", role)) {
                missing.add("role " + role);
            }
        }
        if (missing.isEmpty()) {
            return CheckOutcome.ok(BACKUP_PRIVILEGES, "granted");
        }
        return CheckOutcome.failed(BACKUP_PRIVILEGES, "missing EXECUTE on " + String.join(", ", missing),
                "run sql/postgres/backup-role.sql as a superuser for this role");
    }

    private CheckOutcome checkArchiver(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT archived_count, last_archived_wal, last_archived_time, failed_count, "
                     + "last_failed_wal, last_failed_time, "
                     + "coalesce(last_failed_time > coalesce(last_archived_time, '-infinity'), false) AS failing FROM pg_stat_archiver")) {
            rs.next();
            long archived = rs.getLong("archived_count");
            long failed = rs.getLong("failed_count");
            if (rs.getBoolean("failing")) {
                return CheckOutcome.failed(ARCHIVER, "archiving is failing: last failure " + rs.getString("last_failed_time")
                                + " on " + rs.getString("last_failed_wal") + " (" + failed + " failures, " + archived + " archived)",
                        "the PostgreSQL log has archive_command's message (a missing spool, a full disk, a WAL file spooled twice with "
                                + "different content); PostgreSQL keeps the WAL and retries");
            }
            return CheckOutcome.ok(ARCHIVER, archived + " archived, " + failed + " failed"
                    + (rs.getString("last_archived_wal") == null ? "" : ", last " + rs.getString("last_archived_wal")));
        }
    }

    private static CheckOutcome checkLastWalAge(Connection c, ServerSettings server) throws SQLException {
        if (server.lastWalMaximumAge() == null) {
            return CheckOutcome.skipped(LAST_WAL_AGE, "last-wal-maximum-age not configured");
        }
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT last_archived_wal, extract(epoch FROM now() - last_archived_time)::bigint FROM pg_stat_archiver")) {
            rs.next();
            if (rs.getString(1) == null) {
                return CheckOutcome.failed(LAST_WAL_AGE, "PostgreSQL has not archived any WAL since its statistics were reset",
                        "check archive_command; on an idle server, archive_timeout makes WAL flow");
            }
            long seconds = rs.getLong(2);
            java.time.Duration age = java.time.Duration.ofSeconds(seconds);
            if (age.compareTo(server.lastWalMaximumAge().duration()) > 0) {
                return CheckOutcome.failed(LAST_WAL_AGE, "last WAL archived " + humanAge(age) + " ago (" + rs.getString(1)
                                + "), more than last-wal-maximum-age " + server.lastWalMaximumAge(),
                        "check archive_command and the archiver; on an idle server set archive_timeout below that age");
            }
            return CheckOutcome.ok(LAST_WAL_AGE, humanAge(age) + " ago (" + rs.getString(1) + ")");
        }
    }

    private static String humanAge(java.time.Duration d) {
        long s = d.toSeconds();
        return s < 120 ? s + "s" : s < 7200 ? (s / 60) + " min" : (s / 3600) + " h";
    }

    private void checkPgdata(ServerSettings server, List<CheckOutcome> out) {
        Optional<Path> pgdata = server.pgdataPath();
        if (pgdata.isEmpty()) {
            out.add(CheckOutcome.skipped(PGDATA, "pgdata not configured"));
            return;
        }
        Path versionFile = pgdata.get().resolve("PG_VERSION");
        if (Files.isReadable(versionFile)) {
            out.add(CheckOutcome.ok(PGDATA, pgdata.get().toString()));
        } else {
            out.add(CheckOutcome.failed(PGDATA, pgdata.get() + " is not a readable PostgreSQL data directory",
                    "base backups read the data directory directly: run Cellar on the database host as a user that can read it"));
        }
    }

    private void checkRepository(ServerSettings server, Optional<ServerIdentity> live, List<CheckOutcome> out) {
        try (Storage storage = StorageOpener.open(repositoryUri)) {
            String probe = server.name() + "/.cellar-check-" + UUID.randomUUID();
            byte[] payload = ("cellar check " + System.nanoTime()).getBytes(StandardCharsets.UTF_8);
            storage.write(probe, payload, Storage.IfExists.FAIL);
            boolean same = Arrays.equals(storage.readAll(probe), payload);
            storage.delete(probe);
            if (!same) {
                out.add(CheckOutcome.failed(REPOSITORY, storage.uri() + " returned different bytes than were written", "check the storage"));
                return;
            }
            out.add(CheckOutcome.ok(REPOSITORY, storage.uri() + " is writable"));
            checkIdentity(storage, server, live, out);
            checkWalErrors(storage, server, out);
            // The backups, identity and WAL listing both WAL checks read, read once.
            List<dev.cellar.repository.BackupInfo> backups = new dev.cellar.repository.BackupCatalog(storage, server.name()).list();
            Optional<ServerIdentity> identity = ServerIdentity.read(storage, server.name());
            List<dev.cellar.wal.WalFileName> archived = backups.isEmpty() || identity.isEmpty() ? List.of()
                    : new dev.cellar.wal.WalArchive(storage, server.name(), 3).list();
            checkWalContinuity(storage, server, backups, identity, archived, out);
            checkWalSummaries(storage, server, backups, identity, archived, out);
            checkVerification(storage, server, out);
        } catch (IOException | RuntimeException e) {
            out.add(CheckOutcome.failed(REPOSITORY, "cannot write to " + repositoryUri + ": " + describe(e),
                    "check that the repository exists and that this user may write to it"));
            out.add(CheckOutcome.skipped(SYSTEM_IDENTIFIER, "repository not reachable"));
            out.add(CheckOutcome.skipped(WAL_ERRORS, "repository not reachable"));
            out.add(CheckOutcome.skipped(WAL_CONTINUITY, "repository not reachable"));
            out.add(CheckOutcome.skipped(WAL_SUMMARIES, "repository not reachable"));
        }
    }

    /**
     * Whether the next incremental can be WAL-derived (docs/design.md 5.6): the summaries of the segments archived
     * since the newest backup's start. An unsafe one makes it compare blocks (a warning: it is slower, not wrong); a
     * damaged one (written without fsync, a system crash) is summarized again by the backup and replaced by
     * rebuild-wal-index. Missing ones are normal for the newest segments.
     */
    private void checkWalSummaries(Storage storage, ServerSettings server, List<dev.cellar.repository.BackupInfo> backups,
                                   Optional<ServerIdentity> identity, List<dev.cellar.wal.WalFileName> archived,
                                   List<CheckOutcome> out) throws IOException {
        if (backups.isEmpty() || identity.isEmpty()) {
            out.add(CheckOutcome.ok(WAL_SUMMARIES, "no backups yet"));
            return;
        }
        dev.cellar.repository.BackupInfo newest = backups.get(backups.size() - 1);
        long size = identity.get().walSegmentSize();
        long from = dev.cellar.postgres.Lsn.parse(newest.startLsn()).segmentNumber(size);
        dev.cellar.wal.WalArchive archive = new dev.cellar.wal.WalArchive(storage, server.name(), 3);
        int segments = 0;
        int summarized = 0;
        List<String> unsafe = new ArrayList<>();
        List<String> damaged = new ArrayList<>();
        for (dev.cellar.wal.WalFileName f : archived) {
            if (f.kind() != dev.cellar.wal.WalFileName.Kind.SEGMENT || f.timeline() < newest.timeline()
                    || f.segment().orElseThrow().segmentNumber(size) < from) {
                continue;
            }
            segments++;
            try {
                Optional<dev.cellar.wal.WalSummary> s = archive.readSummary(f);
                if (s.isPresent()) {
                    summarized++;
                    s.get().unsafeReason().ifPresent(why -> unsafe.add(f.name() + " (" + why + ")"));
                }
            } catch (dev.cellar.repository.RepositoryFormatException e) {
                damaged.add(f.name());
            }
        }
        String counts = segments + " segments archived since backup " + newest.id() + " started, " + summarized + " summarized";
        if (!unsafe.isEmpty()) {
            out.add(CheckOutcome.warning(WAL_SUMMARIES, counts + "; " + unsafe.size() + " unsafe, so the next incremental compares blocks: "
                    + String.join(", ", unsafe.subList(0, Math.min(3, unsafe.size()))) + (unsafe.size() > 3 ? ", ..." : ""),
                    "the incremental after 'cellar backup " + server.name() + "' (or a full one) is WAL-derived again"));
        } else if (!damaged.isEmpty()) {
            out.add(CheckOutcome.warning(WAL_SUMMARIES, counts + "; " + damaged.size() + " do not decode (the next backup summarizes them again): "
                    + String.join(", ", damaged.subList(0, Math.min(3, damaged.size()))) + (damaged.size() > 3 ? ", ..." : ""),
                    "'cellar rebuild-wal-index " + server.name() + "' replaces them"));
        } else {
            out.add(CheckOutcome.ok(WAL_SUMMARIES, counts + " (the next incremental summarizes the others itself)"));
        }
    }

    /**
     * The WAL index agrees with the repository's listing: a file the index names but the repository lacks
     * was lost (deleted, or the storage lost it); files listed but not indexed mean the index lags.
     */
    private void checkWalIndex(Storage storage, ServerSettings server, List<dev.cellar.wal.WalFileName> listed, long size,
                               List<CheckOutcome> out) throws IOException {
        Optional<dev.cellar.wal.WalIndex.Snapshot> index = dev.cellar.wal.WalIndex.read(storage, server.name());
        if (index.isEmpty()) {
            out.add(CheckOutcome.ok(WAL_INDEX, "no WAL index yet (the next sweep writes it)"));
            return;
        }
        java.util.Set<String> inRepository = new java.util.HashSet<>();
        listed.forEach(f -> inRepository.add(f.name()));
        List<String> lost = new ArrayList<>();
        java.util.Set<String> indexed = new java.util.HashSet<>();
        for (dev.cellar.wal.WalFileName f : index.get().files()) {
            indexed.add(f.name());
            if (!inRepository.contains(f.name())) {
                lost.add(f.name());
            }
        }
        long unindexed = inRepository.stream().filter(n -> !indexed.contains(n)).count();
        if (!lost.isEmpty()) {
            out.add(CheckOutcome.failed(WAL_INDEX, lost.size() + " WAL files the sweep archived are gone from the repository: "
                    + String.join(", ", lost.subList(0, Math.min(5, lost.size()))) + (lost.size() > 5 ? ", ..." : ""),
                    "find out what deleted them; restores across them are impossible. Then 'cellar rebuild-wal-index " + server.name() + "'"));
        } else if (unindexed > 0) {
            out.add(CheckOutcome.warning(WAL_INDEX, unindexed + " WAL files in the repository are not in the WAL index",
                    "'cellar rebuild-wal-index " + server.name() + "'"));
        } else {
            out.add(CheckOutcome.ok(WAL_INDEX, index.get().segmentCount() + " segments indexed, as in the repository"));
        }
    }

    /** Every segment from the oldest backup's begin WAL to the newest archived one is in the repository. */
    private void checkWalContinuity(Storage storage, ServerSettings server, List<dev.cellar.repository.BackupInfo> backups,
                                    Optional<ServerIdentity> identity, List<dev.cellar.wal.WalFileName> archived,
                                    List<CheckOutcome> out) throws IOException {
        if (backups.isEmpty() || identity.isEmpty()) {
            out.add(CheckOutcome.ok(WAL_CONTINUITY, "no backups yet"));
            return;
        }
        // A backup kept standalone needs only its own WAL: continuity runs from the oldest other backup.
        dev.cellar.repository.BackupInfo notStandalone = backups.get(0);
        for (dev.cellar.repository.BackupInfo b : backups) {
            if (dev.cellar.retention.KeepTarget.read(storage, server.name(), b.id()).orElse(null) != dev.cellar.retention.KeepTarget.STANDALONE) {
                notStandalone = b;
                break;
            }
        }
        dev.cellar.repository.BackupInfo oldest = notStandalone;
        long size = identity.get().walSegmentSize();
        dev.cellar.postgres.WalSegmentName begin = dev.cellar.postgres.WalSegmentName.parse(oldest.beginWal());
        var summary = dev.cellar.wal.WalRanges.of(archived, size);
        checkWalIndex(storage, server, archived, size, out);
        int newestTimeline = summary.timelines().stream().mapToInt(dev.cellar.wal.WalRanges.Timeline::timeline).max().orElse(oldest.timeline());
        if (newestTimeline > oldest.timeline()) {
            checkWalContinuityAcrossTimelines(storage, server, oldest, archived, newestTimeline, size, out);
            return;
        }
        var timeline = summary.timelines().stream().filter(t -> t.timeline() == oldest.timeline()).findFirst();
        if (timeline.isEmpty() || timeline.get().ranges().isEmpty()) {
            out.add(CheckOutcome.failed(WAL_CONTINUITY, "no WAL archived on timeline " + oldest.timeline() + " since backup " + oldest.id()
                    + " (begins at " + oldest.beginWal() + ")", "run 'cellar archive-wal " + server.name() + "' and check archive_command"));
            return;
        }
        long first = dev.cellar.postgres.WalSegmentName.parse(timeline.get().ranges().get(0).first()).segmentNumber(size);
        if (first > begin.segmentNumber(size)) {
            out.add(CheckOutcome.failed(WAL_CONTINUITY, "WAL from " + oldest.beginWal() + " (begin of backup " + oldest.id()
                    + ") is missing; the archive starts at " + timeline.get().ranges().get(0).first(), "backups older than the archive cannot be recovered"));
            return;
        }
        List<String> gaps = timeline.get().gaps().stream()
                .filter(g -> dev.cellar.postgres.WalSegmentName.parse(g.last()).segmentNumber(size) >= begin.segmentNumber(size))
                .map(g -> g.first() + ".." + g.last()).toList();
        if (!gaps.isEmpty()) {
            out.add(CheckOutcome.failed(WAL_CONTINUITY, "gaps in the WAL since backup " + oldest.id() + ": " + String.join(", ", gaps),
                    "point-in-time recovery cannot cross a gap; take a new base backup"));
            return;
        }
        var last = timeline.get().ranges().get(timeline.get().ranges().size() - 1).last();
        out.add(CheckOutcome.ok(WAL_CONTINUITY, oldest.beginWal() + " .. " + last + " on timeline " + oldest.timeline()));
    }

    /**
     * After a promotion: every segment from the oldest backup's begin WAL to the newest one of the
     * newest timeline, along that timeline's history (the file each segment is read from).
     */
    private void checkWalContinuityAcrossTimelines(Storage storage, ServerSettings server, dev.cellar.repository.BackupInfo oldest,
                                                   List<dev.cellar.wal.WalFileName> archived, int newest, long size, List<CheckOutcome> out)
            throws IOException {
        dev.cellar.wal.WalFileName historyFile = dev.cellar.wal.WalFileName.parse(String.format("%08X.history", newest)).orElseThrow();
        if (archived.stream().noneMatch(f -> f.name().equals(historyFile.name()))) {
            out.add(CheckOutcome.failed(WAL_CONTINUITY, "timeline " + newest + " has WAL but no history file (" + historyFile.name() + ") in the repository",
                    "a restore cannot follow timeline " + newest + " without it; check archive_command on the promoted server"));
            return;
        }
        dev.cellar.wal.TimelineHistory history = dev.cellar.wal.TimelineHistory.parse(newest,
                new String(new dev.cellar.wal.WalArchive(storage, server.name(), 3).read(historyFile), java.nio.charset.StandardCharsets.UTF_8));
        dev.cellar.wal.TimelineHistory.Step step = history.step(oldest.timeline());
        if (step == null || (step.end() != null && dev.cellar.postgres.Lsn.parse(oldest.stopLsn()).compareTo(step.end()) > 0)) {
            out.add(CheckOutcome.warning(WAL_CONTINUITY, "the oldest backup " + oldest.id() + " (timeline " + oldest.timeline()
                    + ") is not on the history of the newest timeline " + newest, "take a base backup on timeline " + newest));
            return;
        }
        java.util.Set<String> present = new java.util.HashSet<>();
        long last = -1;
        for (dev.cellar.wal.WalFileName f : archived) {
            if (f.kind() == dev.cellar.wal.WalFileName.Kind.SEGMENT) {
                present.add(f.name());
                if (f.timeline() == newest) {
                    last = Math.max(last, f.segment().orElseThrow().segmentNumber(size));
                }
            }
        }
        long from = dev.cellar.postgres.WalSegmentName.parse(oldest.beginWal()).segmentNumber(size);
        List<String> gaps = new ArrayList<>();
        String gapStart = null;
        String previous = null;
        for (long n = from; n <= last; n++) {
            String name = dev.cellar.postgres.WalSegmentName.ofSegmentNumber(history.timelineOfSegment(n, size), n, size).toString();
            if (!present.contains(name)) {
                gapStart = gapStart == null ? name : gapStart;
            } else if (gapStart != null) {
                gaps.add(gapStart + ".." + previous);
                gapStart = null;
            }
            previous = name;
        }
        if (gapStart != null) {
            gaps.add(gapStart + ".." + previous);
        }
        String path = history.steps().stream().filter(st -> st.timeline() >= oldest.timeline()).map(st -> Integer.toString(st.timeline()))
                .collect(java.util.stream.Collectors.joining(" -> "));
        if (!gaps.isEmpty()) {
            out.add(CheckOutcome.failed(WAL_CONTINUITY, "gaps in the WAL since backup " + oldest.id() + " along timelines " + path + ": "
                    + String.join(", ", gaps.subList(0, Math.min(5, gaps.size()))), "point-in-time recovery cannot cross a gap; take a new base backup"));
            return;
        }
        out.add(CheckOutcome.ok(WAL_CONTINUITY, oldest.beginWal() + " .. " + previous + " along timelines " + path));
    }

    /** The newest backup has a passed verify-restore within {@code verification-maximum-age}. */
    private void checkVerification(Storage storage, ServerSettings server, List<CheckOutcome> out) throws IOException {
        if (server.verificationMaximumAge() == null) {
            return;
        }
        List<dev.cellar.repository.BackupInfo> backups = new dev.cellar.repository.BackupCatalog(storage, server.name()).list();
        if (backups.isEmpty()) {
            out.add(CheckOutcome.failed(VERIFICATION, "no backup to verify", "take a backup, then 'cellar verify " + server.name() + "'"));
            return;
        }
        dev.cellar.repository.BackupInfo newest = backups.get(backups.size() - 1);
        Optional<dev.cellar.verify.VerificationRecord> v = dev.cellar.verify.VerificationRecord.read(storage, server.name(), newest.id());
        java.time.Instant limit = java.time.Instant.now().minus(server.verificationMaximumAge().duration());
        if (v.isEmpty() || !v.get().passed()) {
            out.add(CheckOutcome.failed(VERIFICATION, "the newest backup " + newest.id() + (v.isEmpty() ? " has never been verified"
                    : " FAILED its verification: " + v.get().failure()), "'cellar verify " + server.name() + " " + newest.id() + "'"));
        } else if (v.get().time().isBefore(limit)) {
            out.add(CheckOutcome.failed(VERIFICATION, "the newest backup " + newest.id() + " was last verified at " + v.get().time()
                    + ", longer ago than " + server.verificationMaximumAge(), "'cellar verify " + server.name() + "'"));
        } else {
            out.add(CheckOutcome.ok(VERIFICATION, "backup " + newest.id() + " verified at " + v.get().time()
                    + String.format(", RTO %.1fs", v.get().rtoSeconds())));
        }
    }

    private void checkWalErrors(Storage storage, ServerSettings server, List<CheckOutcome> out) throws IOException {
        List<Storage.Entry> errors = storage.list(dev.cellar.repository.RepositoryLayout.walErrorsDir(server.name()));
        if (errors.isEmpty()) {
            out.add(CheckOutcome.ok(WAL_ERRORS, "none"));
            return;
        }
        String names = errors.stream().limit(3).map(Storage.Entry::name).collect(java.util.stream.Collectors.joining(", "));
        out.add(CheckOutcome.failed(WAL_ERRORS, errors.size() + " files kept aside by wal-sweep: " + names + (errors.size() > 3 ? ", ..." : ""),
                "look at " + storage.uri() + server.name() + "/wal-errors (a duplicate with different content means two clusters archive "
                        + "here, or one was restored without a new timeline); remove the files once dealt with"));
    }

    private void checkIdentity(Storage storage, ServerSettings server, Optional<ServerIdentity> live, List<CheckOutcome> out) throws IOException {
        Optional<ServerIdentity> recorded;
        try {
            recorded = ServerIdentity.read(storage, server.name());
        } catch (RepositoryFormatException e) {
            out.add(CheckOutcome.failed(SYSTEM_IDENTIFIER, e.getMessage(), "the repository's server.json is damaged; see docs/design.md"));
            return;
        }
        if (recorded.isEmpty()) {
            out.add(CheckOutcome.ok(SYSTEM_IDENTIFIER, "not recorded yet (the first backup or WAL sweep records it)"));
        } else if (live.isEmpty()) {
            out.add(CheckOutcome.skipped(SYSTEM_IDENTIFIER, "no connection"));
        } else {
            Optional<String> mismatch = recorded.get().mismatch(live.get());
            if (mismatch.isPresent()) {
                out.add(CheckOutcome.failed(SYSTEM_IDENTIFIER, mismatch.get(),
                        "this repository holds backups of another cluster; point the server at a new repository or server name"));
            } else {
                out.add(CheckOutcome.ok(SYSTEM_IDENTIFIER, live.get().systemIdentifier()));
            }
        }
    }

    private void checkSpool(ServerSettings server, List<CheckOutcome> out) {
        Path spool = server.walSpool();
        if (!Files.isDirectory(spool)) {
            out.add(CheckOutcome.failed(WAL_SPOOL, spool + " does not exist",
                    "create it, owned by the PostgreSQL OS user: install -d -o postgres " + spool));
            return;
        }
        try {
            Path probe = Files.createTempFile(spool, ".cellar-check-", ".tmp");
            Files.delete(probe);
            out.add(CheckOutcome.ok(WAL_SPOOL, spool.toString()));
            long waiting;
            try (var files = Files.list(spool)) {
                waiting = files.filter(p -> !p.getFileName().toString().startsWith(".")).count();
            }
            if (waiting > server.spoolMaximumFiles()) {
                out.add(CheckOutcome.failed(SPOOL_QUEUE, waiting + " files wait in the spool, more than spool-maximum-files " + server.spoolMaximumFiles(),
                        "is wal-sweep running? 'cellar archive-wal " + server.name() + "', or schedule it (cellar serve / cron)"));
            } else {
                out.add(CheckOutcome.ok(SPOOL_QUEUE, waiting + " files waiting"));
            }
        } catch (IOException e) {
            out.add(CheckOutcome.failed(WAL_SPOOL, spool + " is not writable: " + describe(e),
                    "the sweep deletes archived segments from the spool and needs write access"));
        }
    }

    private static boolean bool(Connection c, String sql, String argument) throws SQLException {
        try (var ps = c.prepareStatement(sql)) {
            ps.setString(1, argument);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private static String single(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static long unitBytes(String unit) {
        return switch (unit) {
            case "8kB" -> 8192L;
            case "kB" -> 1024L;
            case "MB" -> 1024L * 1024;
            default -> 1L;
        };
    }

    private static String describe(Exception e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + firstLine(m));
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }
}
