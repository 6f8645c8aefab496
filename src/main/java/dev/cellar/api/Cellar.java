package dev.cellar.api;

import dev.cellar.audit.Actor;
import dev.cellar.audit.AuditEntry;
import dev.cellar.audit.AuditLog;
import dev.cellar.audit.AuditOutcome;
import dev.cellar.check.CheckReport;
import dev.cellar.check.ServerChecker;
import dev.cellar.config.CellarSettings;
import dev.cellar.jobs.ExecutionDetail;
import dev.cellar.jobs.ExecutionSummary;
import dev.cellar.jobs.JobHistory;
import dev.cellar.jobs.JobRuntime;
import dev.cellar.postgres.PostgresConnector;
import dev.cellar.backup.BackupId;
import dev.cellar.jobs.backup.BaseBackupJobConfig;
import dev.cellar.jobs.wal.WalSweepJobConfig;
import dev.cellar.repository.BackupCatalog;
import dev.cellar.repository.BackupInfo;
import dev.cellar.storage.Storage;
import dev.cellar.storage.StorageOpener;
import java.io.IOException;
import java.util.List;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.job.parameters.JobParametersBuilder;

/**
 * The one facade every front end uses (the CLI, the scheduler, tests), in the spirit of Flyway's:
 * {@code Cellar.open(settings).check("main")}. Verbs that need the job repository start it on
 * first use; verbs that do not (check, configuration validation) never pay for it.
 */
public final class Cellar implements AutoCloseable {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Cellar.class);

    private final CellarSettings settings;
    private final PostgresConnector connector;
    private final Actor actor;
    private volatile JobRuntime jobs;
    private AuditLog audit;
    private com.zaxxer.hikari.HikariDataSource auditCatalog;

    /** A facade whose actions are audited as this process's operator ({@link Actor#operator}, from the process environment). */
    public Cellar(CellarSettings settings, PostgresConnector connector) {
        this(settings, connector, Actor.operator(System.getenv()));
    }

    /** A facade whose actions are audited as {@code actor}: the CLI's operator, or {@link Actor#scheduler()} for {@code cellar serve}. */
    public Cellar(CellarSettings settings, PostgresConnector connector, Actor actor) {
        this.settings = settings;
        this.connector = connector;
        this.actor = actor;
    }

    public static Cellar open(CellarSettings settings) {
        return new Cellar(settings, PostgresConnector.fromProcess());
    }

    public CellarSettings settings() {
        return settings;
    }

    /** {@code cellar check SERVER}. */
    public CheckReport check(String server) {
        return new ServerChecker(connector, settings.requireRepository()).check(settings.server(server));
    }

    /**
     * {@code cellar backup SERVER}: runs the base-backup job. When the server's last base-backup
     * execution FAILED or was STOPPED, the same backup (same ID) is restarted from its
     * checkpoints instead of starting another.
     */
    public BackupResult backup(String server, boolean full, boolean waitForWal) {
        return backup(server, full, waitForWal, 0);
    }

    /** @param bwlimit bytes per second written to the repository for this run; 0 for the server's setting */
    public BackupResult backup(String server, boolean full, boolean waitForWal, long bwlimit) {
        return auditedBackup(server, full, waitForWal, bwlimit, null);
    }

    /**
     * A base backup fired by the scheduler: its identity is the server and the scheduled fire time,
     * so a firing delivered twice (a recovered cluster node, an operator re-triggering it) finds the
     * same backup instead of taking another. The server's failed backup, if any, is restarted first.
     * Audited as {@link Actor#scheduler()}.
     */
    public BackupResult scheduledBackup(String server, java.time.Instant scheduledFireTime) {
        return actingAs(Actor.scheduler(), () -> auditedBackup(server, false, false, 0, scheduledFireTime));
    }

    private BackupResult auditedBackup(String server, boolean full, boolean waitForWal, long bwlimit, java.time.Instant scheduledFireTime) {
        String detail = scheduledFireTime != null ? "scheduled at " + scheduledFireTime
                : "full=" + full + " wait=" + waitForWal + (bwlimit > 0 ? " bwlimit=" + bwlimit : "");
        return audited("backup", server, null, detail, note -> {
            BackupResult r = backup(server, full, waitForWal, bwlimit, scheduledFireTime);
            note.job(r.execution());
            note.target = r.execution().parameters().get(BaseBackupJobConfig.BACKUP_ID);
            if (r.restarted()) {
                note.detail += " (restarted the failed backup)";
            }
            return r;
        });
    }

    private BackupResult backup(String server, boolean full, boolean waitForWal, long bwlimit, java.time.Instant scheduledFireTime) {
        settings.server(server);
        JobRuntime runtime = jobs();
        String backupId = unfinishedIdentity(server, BaseBackupJobConfig.JOB, BaseBackupJobConfig.BACKUP_ID);
        boolean restart = backupId != null;
        if (restart) {
            ExecutionSummary last = runtime.history().list(new JobHistory.Filter(server, BaseBackupJobConfig.JOB, null, null, 1)).get(0);
            warnIfLimitKept("backup " + backupId, last.id(), runtime.history().show(last.id()).parameters().get(BaseBackupJobConfig.BWLIMIT),
                    bwlimit);
        }
        if (backupId == null && scheduledFireTime != null && runtime.launcher().exists(BaseBackupJobConfig.JOB, new JobParametersBuilder()
                .addString(JobHistory.SERVER_PARAMETER, server)
                .addString(BaseBackupJobConfig.BACKUP_ID, BackupId.at(scheduledFireTime)).toJobParameters())) {
            backupId = BackupId.at(scheduledFireTime); // this firing ran already: the launch reports how it ended
        }
        if (backupId == null) {
            // The launch (or scheduled fire) time, or the next free second: an ID under backups/ is never
            // reused, even one an abandoned attempt left without backup.json (docs/design.md 5.2).
            java.time.Instant at = scheduledFireTime != null ? scheduledFireTime : java.time.Instant.now();
            try (Storage storage = StorageOpener.open(settings.requireRepository())) {
                while (storage.exists(server + "/backups/" + BackupId.at(at))) {
                    at = at.plusSeconds(1);
                }
            } catch (IOException e) {
                throw new CellarException(ExitCode.FAILED, "cannot open the repository: " + e.getMessage(), e);
            }
            backupId = BackupId.at(at);
        }
        JobParametersBuilder builder = new JobParametersBuilder()
                .addString(JobHistory.SERVER_PARAMETER, server)
                .addString(BaseBackupJobConfig.BACKUP_ID, backupId)
                .addString(BaseBackupJobConfig.FULL, Boolean.toString(full), false)
                .addString(BaseBackupJobConfig.WAIT, Boolean.toString(waitForWal), false);
        if (bwlimit > 0) {
            builder.addString(BaseBackupJobConfig.BWLIMIT, Long.toString(bwlimit), false);
        }
        JobParameters params = builder.toJobParameters();
        JobExecution e = runtime.launcher().launch(BaseBackupJobConfig.JOB, params);
        BackupInfo info = null;
        if (e.getStatus() == org.springframework.batch.core.BatchStatus.COMPLETED) {
            info = backupCatalog(server, c -> c.find(e.getJobParameters().getString(BaseBackupJobConfig.BACKUP_ID))).orElse(null);
        }
        return new BackupResult(restart, runtime.history().show(e.getId()), info);
    }

    /**
     * {@code cellar archive-wal SERVER}: one wal-sweep run. When the server's last sweep FAILED or
     * was STOPPED, that run is restarted instead of starting another.
     */
    public ExecutionDetail archiveWal(String server) {
        return audited("archive-wal", server, null, null, note -> {
            ExecutionDetail d = runArchiveWal(server, null);
            note.job(d);
            return d;
        });
    }

    /**
     * One wal-sweep run named after {@code run}, the scheduled fire time (a firing delivered twice
     * is one run). Not audited: the scheduler sweeps every minute, and the job repository records
     * each run; the audit is for what people (and the scheduler's backups, prunes and
     * verifications) do.
     */
    public ExecutionDetail archiveWal(String server, java.time.Instant run) {
        return runArchiveWal(server, run);
    }

    private ExecutionDetail runArchiveWal(String server, java.time.Instant run) {
        settings.server(server);
        JobRuntime runtime = jobs();
        String unfinished = unfinishedIdentity(server, WalSweepJobConfig.JOB, WalSweepJobConfig.RUN);
        JobParameters params = new JobParametersBuilder()
                .addString(JobHistory.SERVER_PARAMETER, server)
                .addString(WalSweepJobConfig.RUN, unfinished != null ? unfinished : (run != null ? run : java.time.Instant.now()).toString())
                .toJobParameters();
        JobExecution e = runtime.launcher().launch(WalSweepJobConfig.JOB, params);
        return runtime.history().show(e.getId());
    }

    /** The outcome of {@code cellar switch-wal}. */
    public record SwitchResult(String server, String segment, boolean archived, double seconds) {
    }

    /**
     * {@code cellar switch-wal SERVER [--archive]}: closes the current WAL segment ({@code pg_switch_wal})
     * and, with {@code archive}, runs wal-sweep until that segment is in the repository or the timeout
     * passes (exit code 1 then).
     */
    public SwitchResult switchWal(String server, boolean archive, java.time.Duration timeout) {
        return audited("switch-wal", server, null, archive ? "archive timeout=" + timeout.toSeconds() + "s" : null, note -> {
            SwitchResult r = runSwitchWal(server, archive, timeout);
            note.target = r.segment();
            return r;
        });
    }

    private SwitchResult runSwitchWal(String server, boolean archive, java.time.Duration timeout) {
        var srv = settings.server(server);
        long start = System.nanoTime();
        String segment;
        try (var c = connector.connect(srv.conninfo(), srv.passfilePath());
             var st = c.createStatement();
             var rs = st.executeQuery("SELECT pg_walfile_name(pg_switch_wal())")) {
            rs.next();
            segment = rs.getString(1);
        } catch (java.sql.SQLException e) {
            throw new CellarException(ExitCode.FAILED, "cannot switch WAL on server " + server + ": " + e.getMessage(), e);
        }
        if (!archive) {
            return new SwitchResult(server, segment, false, (System.nanoTime() - start) / 1e9);
        }
        dev.cellar.wal.WalFileName name = dev.cellar.wal.WalFileName.parse(segment).orElseThrow();
        java.time.Instant deadline = java.time.Instant.now().plus(timeout);
        try (Storage storage = StorageOpener.open(settings.requireRepository())) {
            dev.cellar.wal.WalArchive walArchive = new dev.cellar.wal.WalArchive(storage, server, 3);
            while (!walArchive.contains(name)) {
                if (java.time.Instant.now().isAfter(deadline)) {
                    throw new CellarException(ExitCode.FAILED, "WAL segment " + segment + " of server " + server + " was not archived within "
                            + timeout.toSeconds() + "s" + (java.nio.file.Files.exists(srv.walSpool().resolve(segment))
                            ? " (it is in the spool: see 'cellar jobs list --job wal-sweep')" : " (PostgreSQL has not archived it: see 'cellar check')"));
                }
                if (java.nio.file.Files.exists(srv.walSpool().resolve(segment))) {
                    try {
                        runArchiveWal(server, null);
                    } catch (CellarException busy) {
                        // another sweep holds the lock or runs: it will archive the segment
                    }
                } else {
                    Thread.sleep(200);
                }
            }
        } catch (IOException e) {
            throw new CellarException(ExitCode.FAILED, "cannot read the repository: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CellarException(ExitCode.FAILED, "interrupted");
        }
        return new SwitchResult(server, segment, true, (System.nanoTime() - start) / 1e9);
    }

    /** {@code cellar list-wal SERVER}: archived WAL per timeline, as ranges and gaps. */
    public dev.cellar.wal.WalRanges.Summary listWal(String server) {
        settings.server(server);
        try (Storage storage = StorageOpener.open(settings.requireRepository())) {
            var identity = dev.cellar.repository.ServerIdentity.read(storage, server);
            if (identity.isEmpty()) {
                return dev.cellar.wal.WalRanges.of(List.of(), 16L << 20);
            }
            List<dev.cellar.wal.WalFileName> files = new dev.cellar.wal.WalArchive(storage, server, 3).list();
            return dev.cellar.wal.WalRanges.of(files, identity.get().walSegmentSize());
        } catch (IOException e) {
            throw new CellarException(ExitCode.FAILED, "cannot read the repository " + settings.repository() + ": " + e.getMessage(), e);
        }
    }

    /**
     * What {@code cellar recover} was asked. {@code target} null: replay all archived WAL. {@code bwlimit}: bytes per
     * second read from the repository, 0 for no limit (a restart keeps the limit of the run it restarts).
     */
    public record RecoverRequest(String server, String backup, java.nio.file.Path destination, dev.cellar.restore.RecoveryTarget target,
                                 String targetTimeline, dev.cellar.restore.RecoveryConfiguration.Action action, boolean exclusive,
                                 java.util.Map<String, java.nio.file.Path> tablespaces, boolean delta, long bwlimit) {
    }

    /** The outcome of {@code cellar recover}: the job execution and, once planned, what it restores. */
    public record RecoverResult(boolean restarted, ExecutionDetail execution, String destination, RecoverPlan plan) {
    }

    /** A restore's plan as operators read it. */
    public record RecoverPlan(String backupId, String target, String timeline, String firstWal, String lastWal, int walSegments, List<String> notes) {
        static RecoverPlan of(dev.cellar.restore.RestorePlan p) {
            var segments = p.segments();
            return new RecoverPlan(p.backupId(), p.target() == null ? "end of the archived WAL" : p.target().describe(), p.timelineSetting(),
                    segments.get(0).name(), segments.get(segments.size() - 1).name(), segments.size(), p.notes());
        }
    }

    /**
     * {@code cellar recover}: plans first (refusing, exit 6, what cannot be reached; nothing is written),
     * then runs the restore job. When the server's last restore into the same destination FAILED or was
     * STOPPED, that run is restarted and continues with the files not yet restored.
     */
    public RecoverResult recover(RecoverRequest request) {
        String detail = "backup=" + request.backup() + " target=" + (request.target() == null ? "end of the archived WAL" : request.target().describe())
                + (request.targetTimeline() == null ? "" : " timeline=" + request.targetTimeline())
                + (request.delta() ? " delta" : "") + (request.tablespaces().isEmpty() ? "" : " tablespaces=" + request.tablespaces())
                + (request.bwlimit() > 0 ? " bwlimit=" + request.bwlimit() : "");
        return audited("recover", request.server(), request.destination().toAbsolutePath().normalize().toString(), detail, note -> {
            RecoverResult r = runRecover(request);
            note.job(r.execution());
            if (r.plan() != null) {
                note.detail += " (restored backup " + r.plan().backupId() + ")";
            }
            return r;
        });
    }

    private RecoverResult runRecover(RecoverRequest request) {
        var srv = settings.server(request.server());
        java.nio.file.Path dest = request.destination().toAbsolutePath().normalize();
        String tablespaces = request.tablespaces().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(java.util.stream.Collectors.joining("\n"));
        String requestKey = String.join(" ", request.backup(), dev.cellar.restore.RecoveryTarget.encode(request.target()),
                String.valueOf(request.targetTimeline()), String.valueOf(request.action()), "exclusive=" + request.exclusive(),
                "delta=" + request.delta(), "tablespaces=" + tablespaces.replace('\n', ','));
        JobRuntime runtime = jobs();
        String run = null;
        for (ExecutionSummary last : runtime.history().list(new JobHistory.Filter(request.server(), dev.cellar.jobs.restore.RestoreJobConfig.JOB, null, null, 20))) {
            if (!last.identity().contains(dev.cellar.jobs.restore.RestoreJobConfig.DESTINATION + "=" + dest + ",")) {
                continue; // the identity names the destination: only the newest run into DEST is looked at closely
            }
            ExecutionDetail d = runtime.history().show(last.id());
            if (dest.toString().equals(d.parameters().get(dev.cellar.jobs.restore.RestoreJobConfig.DESTINATION))) {
                // Only the same request continues an interrupted restore; another one starts afresh (and
                // is refused on a non-empty DEST without --delta).
                if ((last.status().equals("FAILED") || last.status().equals("STOPPED"))
                        && requestKey.equals(d.parameters().get(dev.cellar.jobs.restore.RestoreJobConfig.REQUEST))) {
                    run = d.parameters().get(dev.cellar.jobs.restore.RestoreJobConfig.RUN);
                    warnIfLimitKept("restore into " + dest, last.id(), d.parameters().get(dev.cellar.jobs.restore.RestoreJobConfig.BWLIMIT),
                            request.bwlimit());
                }
                break;
            }
        }
        boolean restart = run != null;
        if (!restart) {
            try (Storage storage = StorageOpener.open(settings.requireRepository())) {
                var identity = dev.cellar.repository.ServerIdentity.read(storage, request.server())
                        .orElseThrow(() -> new CellarException(ExitCode.NOT_FOUND, "server " + request.server() + " has nothing in the repository"));
                var plan = new dev.cellar.restore.RestorePlanner(storage, request.server(), identity)
                        .plan(request.backup(), request.target(), request.targetTimeline(), request.exclusive());
                var backup = BackupInfo.read(storage, request.server(), plan.backupId()).orElseThrow();
                dev.cellar.restore.RecoveryConfiguration.checkQuotable(dest);
                dev.cellar.restore.DataDirectoryRestore.checkDestination(dest, srv.pgdata(),
                        dev.cellar.restore.DataDirectoryRestore.tablespaceTargets(backup.manifest(storage), request.tablespaces()), request.delta());
            } catch (dev.cellar.restore.RestoreRefusedException e) {
                throw new CellarException(ExitCode.REFUSED, e.getMessage());
            } catch (java.util.NoSuchElementException e) {
                throw new CellarException(ExitCode.NOT_FOUND, e.getMessage());
            } catch (IllegalArgumentException e) {
                throw new CellarException(ExitCode.USAGE, e.getMessage());
            } catch (IOException e) {
                throw new CellarException(ExitCode.FAILED, "cannot read the repository: " + e.getMessage(), e);
            }
            run = java.time.Instant.now().toString();
        }
        JobParametersBuilder builder = new JobParametersBuilder()
                .addString(JobHistory.SERVER_PARAMETER, request.server())
                .addString(dev.cellar.jobs.restore.RestoreJobConfig.DESTINATION, dest.toString())
                .addString(dev.cellar.jobs.restore.RestoreJobConfig.RUN, run)
                .addString(dev.cellar.jobs.restore.RestoreJobConfig.REQUEST, requestKey, false)
                .addString(dev.cellar.jobs.restore.RestoreJobConfig.BACKUP, request.backup(), false)
                .addString(dev.cellar.jobs.restore.RestoreJobConfig.TARGET, dev.cellar.restore.RecoveryTarget.encode(request.target()), false)
                .addString(dev.cellar.jobs.restore.RestoreJobConfig.EXCLUSIVE, Boolean.toString(request.exclusive()), false)
                .addString(dev.cellar.jobs.restore.RestoreJobConfig.DELTA, Boolean.toString(request.delta()), false);
        if (request.targetTimeline() != null) {
            builder.addString(dev.cellar.jobs.restore.RestoreJobConfig.TARGET_TIMELINE, request.targetTimeline(), false);
        }
        if (request.action() != null) {
            builder.addString(dev.cellar.jobs.restore.RestoreJobConfig.TARGET_ACTION, request.action().name().toLowerCase(), false);
        }
        if (!tablespaces.isEmpty()) {
            builder.addString(dev.cellar.jobs.restore.RestoreJobConfig.TABLESPACES, tablespaces, false);
        }
        if (request.bwlimit() > 0) {
            builder.addString(dev.cellar.jobs.restore.RestoreJobConfig.BWLIMIT, Long.toString(request.bwlimit()), false);
        }
        JobExecution e = runtime.launcher().launch(dev.cellar.jobs.restore.RestoreJobConfig.JOB, builder.toJobParameters());
        String planned = e.getExecutionContext().getString(dev.cellar.jobs.restore.RestoreJobConfig.PLANNED, null);
        return new RecoverResult(restart, runtime.history().show(e.getId()), dest.toString(),
                planned == null ? null : RecoverPlan.of(dev.cellar.restore.RestorePlan.decode(planned)));
    }

    /**
     * {@code cellar get-wal SERVER NAME PATH}: one archived WAL file, decompressed and verified, written
     * to PATH (temporary name, then rename), for a {@code restore_command} that fetches from the repository.
     */
    public long getWal(String server, String name, java.nio.file.Path target) {
        settings.server(server);
        dev.cellar.wal.WalFileName wal = dev.cellar.wal.WalFileName.parse(name)
                .orElseThrow(() -> new CellarException(ExitCode.USAGE, "'" + name + "' is not a WAL file name"));
        try (Storage storage = StorageOpener.open(settings.requireRepository())) {
            byte[] content;
            try {
                content = new dev.cellar.wal.WalArchive(storage, server, 3).read(wal);
            } catch (java.nio.file.NoSuchFileException e) {
                throw new CellarException(ExitCode.NOT_FOUND, "WAL file " + name + " of server " + server + " is not in the archive");
            }
            java.nio.file.Path abs = target.toAbsolutePath();
            java.nio.file.Path tmp = abs.resolveSibling("." + abs.getFileName() + ".cellar-tmp");
            java.nio.file.Files.write(tmp, content);
            try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(false);
            }
            java.nio.file.Files.move(tmp, abs, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return content.length;
        } catch (IOException e) {
            throw new CellarException(ExitCode.FAILED, "cannot fetch WAL file " + name + ": " + e.getMessage(), e);
        }
    }

    /** The outcome of {@code cellar prune}: the job execution and the plan it made (and, unless a dry run, carried out). */
    public record PruneResult(boolean restarted, boolean dryRun, ExecutionDetail execution, dev.cellar.retention.PrunePlan plan) {
    }

    /**
     * {@code cellar prune SERVER [--dry-run]}: the retention-prune job. When the server's last prune FAILED
     * or was STOPPED (and this is not a dry run), that run is restarted and finishes its plan.
     */
    public PruneResult prune(String server, boolean dryRun) {
        return audited("prune", server, null, dryRun ? "dry-run" : null, note -> {
            PruneResult r = runPrune(server, dryRun);
            note.job(r.execution());
            if (r.plan() != null && note.outcome.kind() == AuditOutcome.Kind.OK) {
                note.outcome = AuditOutcome.ok(note.outcome.message() + "; " + (dryRun ? "would delete " : "deleted ")
                        + r.plan().deleteBackups().size() + " backups " + r.plan().deleteBackups() + ", " + r.plan().deleteWal().size() + " WAL files");
            }
            return r;
        });
    }

    private PruneResult runPrune(String server, boolean dryRun) {
        var srv = settings.server(server);
        if (srv.retentionPolicy().isEmpty()) {
            throw new CellarException(ExitCode.USAGE, "server " + server + " has no retention policy: set servers." + server
                    + ".retention (e.g. \"RECOVERY WINDOW OF 7 DAYS\" or \"REDUNDANCY 3\")");
        }
        JobRuntime runtime = jobs();
        String run = dryRun ? null : unfinishedIdentity(server, dev.cellar.jobs.retention.RetentionPruneJobConfig.JOB,
                dev.cellar.jobs.retention.RetentionPruneJobConfig.RUN);
        boolean restart = run != null;
        JobParameters params = new JobParametersBuilder()
                .addString(JobHistory.SERVER_PARAMETER, server)
                .addString(dev.cellar.jobs.retention.RetentionPruneJobConfig.RUN, run != null ? run : java.time.Instant.now().toString())
                .addString(dev.cellar.jobs.retention.RetentionPruneJobConfig.DRY_RUN, Boolean.toString(dryRun), false)
                .toJobParameters();
        JobExecution e = runtime.launcher().launch(dev.cellar.jobs.retention.RetentionPruneJobConfig.JOB, params);
        String planned = e.getExecutionContext().getString(dev.cellar.jobs.retention.RetentionPruneJobConfig.PLANNED, null);
        return new PruneResult(restart, dryRun, runtime.history().show(e.getId()), planned == null ? null : dev.cellar.retention.PrunePlan.decode(planned));
    }

    /** A backup with its retention verdict, for {@code list-backups}. */
    public record BackupWithStatus(BackupInfo backup, String retention, String reason) {
    }

    /**
     * {@code cellar list-backups}: committed backups, oldest first, each with its retention status under the server's
     * policy: the candidates {@code prune} evaluates ({@link dev.cellar.retention.PrunePlanner#candidates}, every
     * manifest read for the backups it references), so both say the same of each backup.
     */
    public List<BackupWithStatus> listBackupsWithStatus(String server) {
        var srv = settings.server(server);
        try (Storage storage = StorageOpener.open(settings.requireRepository())) {
            List<BackupInfo> backups = new BackupCatalog(storage, server).list();
            List<BackupWithStatus> out = new java.util.ArrayList<>();
            if (srv.retentionPolicy().isEmpty()) {
                for (BackupInfo b : backups) {
                    var keep = dev.cellar.retention.KeepTarget.read(storage, server, b.id()).orElse(null);
                    out.add(new BackupWithStatus(b, keep == null ? "-" : "KEEP:" + keep, keep == null ? "no retention policy" : "kept"));
                }
                return out;
            }
            var candidates = new dev.cellar.retention.PrunePlanner(storage, server).candidates(backups);
            var verdicts = dev.cellar.retention.RetentionEvaluation.evaluate(candidates, srv.retentionPolicy().get(), srv.minimumRedundancy(),
                    java.time.Instant.now());
            for (int i = 0; i < backups.size(); i++) {
                out.add(new BackupWithStatus(backups.get(i), verdicts.get(i).status().label, verdicts.get(i).reason()));
            }
            return out;
        } catch (IOException e) {
            throw new CellarException(ExitCode.FAILED, "cannot read the repository " + settings.repository() + ": " + e.getMessage(), e);
        }
    }

    /** {@code cellar keep SERVER ID [--target full|standalone | --release | --status]}; returns the annotation after the change. */
    public java.util.Optional<dev.cellar.retention.KeepTarget> keep(String server, String id, dev.cellar.retention.KeepTarget target, boolean release) {
        if (!release && target == null) {
            return runKeep(server, id, null, false); // --status only reads
        }
        return audited(release ? "keep --release" : "keep", server, id, release ? null : "target=" + target.name().toLowerCase(java.util.Locale.ROOT),
                note -> runKeep(server, id, target, release));
    }

    private java.util.Optional<dev.cellar.retention.KeepTarget> runKeep(String server, String id, dev.cellar.retention.KeepTarget target, boolean release) {
        settings.server(server);
        try (Storage storage = StorageOpener.open(settings.requireRepository())) {
            if (BackupInfo.read(storage, server, id).isEmpty()) {
                throw new CellarException(ExitCode.NOT_FOUND, "server " + server + " has no backup " + id);
            }
            if (release) {
                dev.cellar.retention.KeepTarget.release(storage, server, id);
            } else if (target != null) {
                target.write(storage, server, id);
            }
            return dev.cellar.retention.KeepTarget.read(storage, server, id);
        } catch (IOException e) {
            throw new CellarException(ExitCode.FAILED, "cannot update the keep annotation of backup " + id + ": " + e.getMessage(), e);
        }
    }

    /** The outcome of {@code cellar verify}: the job execution and the verification it recorded (null when none was). */
    public record VerifyResult(boolean restarted, ExecutionDetail execution, dev.cellar.verify.VerificationRecord verification) {
    }

    /**
     * {@code cellar verify SERVER [ID] [--to-end]}: the verify-restore job. When the server's last
     * verification FAILED or was STOPPED, it is restarted (its scratch space is recreated).
     */
    public VerifyResult verify(String server, String backupId, boolean toEnd) {
        return audited("verify", server, backupId, toEnd ? "to-end" : null, note -> {
            VerifyResult r = runVerify(server, backupId, toEnd);
            note.job(r.execution());
            if (note.target == null) {
                note.target = r.execution().context().containsKey(dev.cellar.jobs.verify.VerifyRestoreJobConfig.BACKUP_ID)
                        ? String.valueOf(r.execution().context().get(dev.cellar.jobs.verify.VerifyRestoreJobConfig.BACKUP_ID)) : null;
            }
            return r;
        });
    }

    private VerifyResult runVerify(String server, String backupId, boolean toEnd) {
        settings.server(server);
        JobRuntime runtime = jobs();
        String run = unfinishedIdentity(server, dev.cellar.jobs.verify.VerifyRestoreJobConfig.JOB, dev.cellar.jobs.verify.VerifyRestoreJobConfig.RUN);
        JobParametersBuilder builder = new JobParametersBuilder()
                .addString(JobHistory.SERVER_PARAMETER, server)
                .addString(dev.cellar.jobs.verify.VerifyRestoreJobConfig.RUN, run != null ? run : java.time.Instant.now().toString())
                .addString(dev.cellar.jobs.verify.VerifyRestoreJobConfig.TO_END, Boolean.toString(toEnd), false);
        if (backupId != null) {
            builder.addString(dev.cellar.jobs.verify.VerifyRestoreJobConfig.BACKUP, backupId, false);
        }
        JobExecution e = runtime.launcher().launch(dev.cellar.jobs.verify.VerifyRestoreJobConfig.JOB, builder.toJobParameters());
        String id = e.getExecutionContext().getString(dev.cellar.jobs.verify.VerifyRestoreJobConfig.BACKUP_ID, null);
        dev.cellar.verify.VerificationRecord record = null;
        if (id != null) {
            try (Storage storage = StorageOpener.open(settings.requireRepository())) {
                record = dev.cellar.verify.VerificationRecord.read(storage, server, id).orElse(null);
            } catch (IOException ex) {
                throw new CellarException(ExitCode.FAILED, "cannot read the repository: " + ex.getMessage(), ex);
            }
        }
        return new VerifyResult(run != null, runtime.history().show(e.getId()), record);
    }

    /** The latest verification of each backup that has one, by backup ID. */
    public java.util.Map<String, dev.cellar.verify.VerificationRecord> verifications(String server) {
        settings.server(server);
        try (Storage storage = StorageOpener.open(settings.requireRepository())) {
            java.util.Map<String, dev.cellar.verify.VerificationRecord> out = new java.util.LinkedHashMap<>();
            for (BackupInfo b : new BackupCatalog(storage, server).list()) {
                dev.cellar.verify.VerificationRecord.read(storage, server, b.id()).ifPresent(v -> out.put(b.id(), v));
            }
            return out;
        } catch (IOException e) {
            throw new CellarException(ExitCode.FAILED, "cannot read the repository " + settings.repository() + ": " + e.getMessage(), e);
        }
    }

    /** What {@code cellar cron} did for one server and job: the execution's status, or why it did not run. */
    public record CronRun(String server, String job, String status, Long execution, String detail) {
    }

    /**
     * {@code cellar cron}: for hosts that prefer system cron (Barman's habit), everything due once, then
     * exit: a wal-sweep of every server, and a retention prune of every server with a policy. One
     * server's failure does not stop the others; each outcome is returned.
     */
    public List<CronRun> cron() {
        List<CronRun> out = new java.util.ArrayList<>();
        for (String server : new java.util.TreeSet<>(settings.servers().keySet())) {
            try {
                ExecutionDetail sweep = archiveWal(server);
                String status = "COMPLETED_WITH_WARNINGS".equals(sweep.execution().exitCode()) ? "WARNING" : sweep.execution().status();
                out.add(new CronRun(server, dev.cellar.jobs.wal.WalSweepJobConfig.JOB, status, sweep.execution().id(),
                        sweep.execution().exitMessage()));
            } catch (CellarException e) {
                out.add(new CronRun(server, dev.cellar.jobs.wal.WalSweepJobConfig.JOB, e.exitCode() == ExitCode.BUSY ? "BUSY" : "FAILED", null, e.getMessage()));
            }
            if (settings.servers().get(server).retentionPolicy().isPresent()) {
                try {
                    PruneResult p = prune(server, false);
                    out.add(new CronRun(server, dev.cellar.jobs.retention.RetentionPruneJobConfig.JOB, p.execution().execution().status(),
                            p.execution().execution().id(), p.plan() == null ? p.execution().execution().exitMessage()
                            : p.plan().deleteBackups().size() + " backups, " + p.plan().deleteWal().size() + " WAL files deleted"));
                } catch (CellarException e) {
                    out.add(new CronRun(server, dev.cellar.jobs.retention.RetentionPruneJobConfig.JOB, e.exitCode() == ExitCode.BUSY ? "BUSY" : "FAILED",
                            null, e.getMessage()));
                }
            }
        }
        return out;
    }

    /** {@code cellar check-repository SERVER}: every referenced frame present, and the unreferenced bundle bytes. */
    public dev.cellar.repository.RepositoryAudit.Result checkRepository(String server) {
        settings.server(server);
        try (Storage storage = StorageOpener.open(settings.requireRepository())) {
            return dev.cellar.repository.RepositoryAudit.audit(storage, server);
        } catch (IOException e) {
            throw new CellarException(ExitCode.FAILED, "cannot read the repository " + settings.repository() + ": " + e.getMessage(), e);
        }
    }

    /** The outcome of {@code cellar rebuild-wal-index}. */
    /**
     * @param summariesWritten    WAL summaries written for segments that had none (unsafe ones included)
     * @param summariesUnsafe     of those, the unsafe ones: "segment (reason)"
     * @param summariesMissing    segments still without a summary: "segment (why)" (the newest segment waits for its
     *                            successor; a failure names its cause)
     */
    public record WalIndexResult(String server, long segments, int timelines, int otherFiles, double seconds,
                                 int summariesWritten, List<String> summariesUnsafe, List<String> summariesMissing,
                                 List<String> summariesReplaced) {
    }

    /** {@code cellar rebuild-wal-index SERVER}: the WAL index rebuilt from the repository's listing, under the archive lock. */
    public WalIndexResult rebuildWalIndex(String server) {
        return audited("rebuild-wal-index", server, null, null, note -> runRebuildWalIndex(server));
    }

    private WalIndexResult runRebuildWalIndex(String server) {
        settings.server(server);
        long start = System.nanoTime();
        try (Storage storage = StorageOpener.open(settings.requireRepository())) {
            var identity = dev.cellar.repository.ServerIdentity.read(storage, server)
                    .orElseThrow(() -> new CellarException(ExitCode.NOT_FOUND, "server " + server + " has nothing in the repository"));
            try (var lock = dev.cellar.repository.RepositoryLock.acquire(storage, server, "archive", "rebuild-wal-index")) {
                var s = dev.cellar.wal.WalIndex.rebuild(storage, server, identity.walSegmentSize());
                var summaries = new dev.cellar.wal.WalSummaries(new dev.cellar.wal.WalArchive(storage, server, 3), identity.pgMajor(),
                        identity.walSegmentSize(), null).writeMissing();
                int written = 0;
                List<String> unsafe = new java.util.ArrayList<>();
                List<String> missing = new java.util.ArrayList<>();
                List<String> replaced = new java.util.ArrayList<>();
                for (var n : summaries) {
                    switch (n.state()) {
                        case REPLACED:
                            replaced.add(n.segment() + " (" + n.detail() + ")");
                            written++;
                            break;
                        case UNSAFE:
                            unsafe.add(n.segment() + " (" + n.detail() + ")");
                            written++;
                            break;
                        case WRITTEN:
                            written++;
                            break;
                        case DEFERRED:
                        case FAILED:
                            missing.add(n.segment() + " (" + n.detail() + ")");
                            break;
                        default:
                            break;
                    }
                }
                return new WalIndexResult(server, s.segmentCount(), s.ranges().size(), s.otherFiles().size(), (System.nanoTime() - start) / 1e9,
                        written, unsafe, missing, replaced);
            }
        } catch (dev.cellar.repository.RepositoryLock.HeldException e) {
            throw new CellarException(ExitCode.BUSY, e.getMessage());
        } catch (IOException e) {
            throw new CellarException(ExitCode.FAILED, "cannot rebuild the WAL index of server " + server + ": " + e.getMessage(), e);
        }
    }

    /**
     * A restart runs with its first run's parameters (Spring Batch's restart): says so when this command asked for
     * another bandwidth limit, so that nobody waits on a limit they think they lifted.
     */
    private static void warnIfLimitKept(String what, long execution, String firstLimit, long asked) {
        String askedLimit = asked > 0 ? Long.toString(asked) : null;
        if (!java.util.Objects.equals(firstLimit, askedLimit)) {
            log.warn("Restarting the unfinished {} with its first run's parameters: {} (this command asked for {}). To change it, "
                            + "abandon it ('cellar jobs abandon {}') and {}",
                    what, firstLimit == null ? "no --bwlimit" : "--bwlimit " + firstLimit + " bytes/s",
                    askedLimit == null ? "none" : askedLimit + " bytes/s", execution,
                    what.startsWith("restore") ? "restore again with --delta, which keeps the files already restored" : "back up again");
        }
    }

    /**
     * The identifying parameter of the server's last run of a job when that run FAILED or was STOPPED:
     * launching it again restarts that run instead of starting another. Null otherwise.
     */
    private String unfinishedIdentity(String server, String job, String parameter) {
        for (ExecutionSummary last : jobs().history().list(new JobHistory.Filter(server, job, null, null, 1))) {
            if (last.status().equals("FAILED") || last.status().equals("STOPPED")) {
                return jobs().history().show(last.id()).parameters().get(parameter);
            }
        }
        return null;
    }

    /** The outcome of {@code cellar backup}. */
    public record BackupResult(boolean restarted, ExecutionDetail execution, BackupInfo backup) {
    }

    /** {@code cellar list-backups}: committed backups, oldest first. */
    public List<BackupInfo> listBackups(String server) {
        settings.server(server);
        return backupCatalog(server, BackupCatalog::list);
    }

    /** {@code cellar show-backup}. */
    public BackupInfo showBackup(String server, String idOrLatest) {
        settings.server(server);
        return backupCatalog(server, c -> c.find(idOrLatest))
                .orElseThrow(() -> new CellarException(ExitCode.NOT_FOUND, "server " + server + " has no backup " + idOrLatest));
    }

    /** {@code cellar delete SERVER ID}. */
    public DeleteResult deleteBackup(String server, String id) {
        return audited("delete", server, id, null, note -> {
            DeleteResult r = runDeleteBackup(server, id);
            note.outcome = AuditOutcome.ok(r.filesDeleted() + " files, " + r.bytesFreed() + " bytes freed"
                    + (r.warnings().isEmpty() ? "" : "; warning: " + String.join("; ", r.warnings())));
            return r;
        });
    }

    /** The outcome of {@code cellar delete}: what was deleted, and the post-delete hook's failure as a warning. */
    public record DeleteResult(String server, String id, long bytesFreed, int filesDeleted, List<String> warnings) {
    }

    /**
     * Deletes one backup between its delete hooks: the pre-delete hook runs once the backup is known to exist; when
     * it fails nothing is deleted (exit 6, the message naming the hook). The post-delete hook runs after the deletion,
     * also when it was refused or failed (CELLAR_STATUS=FAILED, CELLAR_ERROR); its failure is a warning.
     */
    private DeleteResult runDeleteBackup(String server, String id) {
        var srv = settings.server(server);
        dev.cellar.hooks.HookRunner hooks = new dev.cellar.hooks.HookRunner(settings, server);
        java.util.Map<String, String> vars = java.util.Map.of("CELLAR_BACKUP_ID", id, "CELLAR_DELETED_BY", "delete");
        try (Storage storage = StorageOpener.open(settings.requireRepository())) {
            if (BackupInfo.read(storage, server, id).isEmpty()) {
                throw new java.util.NoSuchElementException("server " + server + " has no backup " + id);
            }
            try {
                hooks.pre(dev.cellar.hooks.Hook.DELETE, vars);
            } catch (dev.cellar.hooks.HookFailedException e) {
                throw new CellarException(ExitCode.REFUSED, "backup " + id + " was not deleted: " + e.getMessage());
            }
            dev.cellar.backup.BackupRemoval.Result r;
            try {
                r = dev.cellar.backup.BackupRemoval.delete(storage, server, id, srv.minimumRedundancy());
            } catch (IOException | RuntimeException e) {
                hooks.post(dev.cellar.hooks.Hook.DELETE, "FAILED", e.getMessage(), vars);
                throw e;
            }
            List<String> warnings = hooks.post(dev.cellar.hooks.Hook.DELETE, "COMPLETED", null, vars).map(List::of).orElse(List.of());
            return new DeleteResult(r.server(), r.id(), r.bytesFreed(), r.filesDeleted(), warnings);
        } catch (dev.cellar.backup.BackupRemoval.RefusedException e) {
            throw new CellarException(ExitCode.REFUSED, e.getMessage());
        } catch (java.util.NoSuchElementException e) {
            throw new CellarException(ExitCode.NOT_FOUND, e.getMessage());
        } catch (dev.cellar.repository.RepositoryLock.HeldException e) {
            throw new CellarException(ExitCode.BUSY, e.getMessage());
        } catch (IOException e) {
            throw new CellarException(ExitCode.FAILED, "cannot delete backup " + id + ": " + e.getMessage(), e);
        }
    }

    private interface CatalogQuery<T> {
        T apply(BackupCatalog catalog) throws IOException;
    }

    private <T> T backupCatalog(String server, CatalogQuery<T> query) {
        try (Storage storage = StorageOpener.open(settings.requireRepository())) {
            return query.apply(new BackupCatalog(storage, server));
        } catch (IOException e) {
            throw new CellarException(ExitCode.FAILED, "cannot read the repository " + settings.repository() + ": " + e.getMessage(), e);
        }
    }

    /** {@code cellar jobs list}. */
    public List<ExecutionSummary> listJobs(JobHistory.Filter filter) {
        return jobs().history().list(filter);
    }

    /** {@code cellar jobs show}. */
    public ExecutionDetail showJob(long executionId) {
        return jobs().history().show(executionId);
    }

    /** {@code cellar jobs restart}: runs the restarted execution to its end and describes it. */
    public ExecutionDetail restartJob(long executionId) {
        return audited("jobs restart", serverOf(executionId), "execution " + executionId, null, note -> {
            JobExecution e = jobs().launcher().restart(executionId);
            ExecutionDetail d = jobs().history().show(e.getId());
            note.job(d);
            note.detail = d.execution().job() + " " + d.execution().identity() + ", restarted as execution " + e.getId();
            return d;
        });
    }

    /** {@code cellar jobs stop}. */
    public ExecutionDetail stopJob(long executionId) {
        return audited("jobs stop", serverOf(executionId), "execution " + executionId, null, note -> {
            jobs().launcher().stop(executionId);
            ExecutionDetail d = jobs().history().show(executionId);
            note.detail = d.execution().job() + " " + d.execution().identity() + ", now " + d.execution().status();
            return d;
        });
    }

    /** {@code cellar jobs abandon}. */
    public ExecutionDetail abandonJob(long executionId) {
        return audited("jobs abandon", serverOf(executionId), "execution " + executionId, null, note -> {
            jobs().launcher().abandon(executionId);
            ExecutionDetail d = jobs().history().show(executionId);
            note.detail = d.execution().job() + " " + d.execution().identity() + ", now " + d.execution().status();
            return d;
        });
    }

    /** The server an execution worked for, for its audit row; null when it does not exist. */
    private String serverOf(long executionId) {
        try {
            return jobs().history().show(executionId).execution().server();
        } catch (CellarException e) {
            return null;
        }
    }

    /** {@code cellar jobs audit}: audited actions, newest first. */
    public List<AuditEntry> auditEntries(AuditLog.Filter filter) {
        try {
            return auditLog().list(filter);
        } catch (IllegalStateException e) {
            throw new CellarException(ExitCode.FAILED, e.getMessage(), e);
        }
    }

    /**
     * The audit of actions on the catalog, opened on first use: the job context's catalog when it runs, else
     * a small pool of its own (verbs such as {@code delete} start no job context). The scheduler records its
     * own actions here with {@link Actor#scheduler()}.
     */
    public synchronized AuditLog auditLog() {
        if (audit == null) {
            javax.sql.DataSource ds;
            if (jobs != null) {
                ds = jobs.bean(javax.sql.DataSource.class);
            } else {
                auditCatalog = dev.cellar.catalog.CatalogDataSource.open(settings, 2);
                ds = auditCatalog;
            }
            audit = new AuditLog(ds);
        }
        return audit;
    }

    /** Who this facade's actions are recorded as, on this thread (see {@link #actingAs}). */
    public Actor actor() {
        Actor acting = ACTING.get();
        return acting != null ? acting : actor;
    }

    private static final ThreadLocal<Actor> ACTING = new ThreadLocal<>();

    /**
     * Runs {@code action} on this thread with its audited calls recorded as {@code who}: the scheduler's
     * firings ({@code cellar.actingAs(Actor.scheduler(), () -> cellar.prune(server, false))}) on a facade
     * that an operator's process opened. {@link #scheduledBackup} and {@link #archiveWal(String, java.time.Instant)}
     * do so themselves.
     */
    public <T> T actingAs(Actor who, java.util.function.Supplier<T> action) {
        Actor before = ACTING.get();
        ACTING.set(who);
        try {
            return action.get();
        } finally {
            if (before == null) {
                ACTING.remove();
            } else {
                ACTING.set(before);
            }
        }
    }

    /** What an audited action says of itself as it ends: its target, detail and outcome (ok when it says nothing). */
    private static final class AuditNote {
        String target;
        String detail;
        AuditOutcome outcome;

        /** The outcome of a job execution: ok when COMPLETED (a warning noted), failed otherwise. */
        void job(ExecutionDetail d) {
            ExecutionSummary s = d.execution();
            if (s.status().equals("COMPLETED")) {
                outcome = "COMPLETED_WITH_WARNINGS".equals(s.exitCode())
                        ? AuditOutcome.ok("execution " + s.id() + " COMPLETED with warnings: " + s.exitMessage())
                        : AuditOutcome.ok("execution " + s.id() + " COMPLETED");
            } else {
                outcome = AuditOutcome.failed("execution " + s.id() + " " + s.status() + (s.exitMessage().isEmpty() ? "" : ": " + s.exitMessage()));
            }
        }
    }

    /**
     * Runs an operator action and records it in the audit, however it ends: ok, refused (a {@link CellarException}
     * meaning nothing was done: refused, busy, not found, usage; or a configuration error) or failed. A failure to
     * write the audit row is logged and does not change the action's outcome (it has happened).
     */
    private <T> T audited(String action, String server, String target, String detail, java.util.function.Function<AuditNote, T> work) {
        AuditNote note = new AuditNote();
        note.target = target;
        note.detail = detail;
        java.time.Instant start = java.time.Instant.now();
        try {
            T result = work.apply(note);
            writeAudit(action, server, note, note.outcome == null ? AuditOutcome.ok() : note.outcome, start);
            return result;
        } catch (CellarException e) {
            boolean refused = switch (e.exitCode()) {
                case REFUSED, BUSY, NOT_FOUND, USAGE, NOT_IMPLEMENTED -> true;
                default -> false;
            };
            writeAudit(action, server, note, refused ? AuditOutcome.refused(e.getMessage()) : AuditOutcome.failed(e.getMessage()), start);
            throw e;
        } catch (dev.cellar.config.ConfigException e) {
            writeAudit(action, server, note, AuditOutcome.refused(e.getMessage()), start);
            throw e;
        } catch (RuntimeException | Error e) {
            writeAudit(action, server, note, AuditOutcome.failed(e.toString()), start);
            throw e;
        }
    }

    private void writeAudit(String action, String server, AuditNote note, AuditOutcome outcome, java.time.Instant start) {
        try {
            auditLog().record(actor(), action, server, note.target, note.detail, outcome, start, java.time.Instant.now());
        } catch (RuntimeException e) {
            log.error("The audit lost this action: {} {} {} by {}: {} ({})", action, server, note.target, actor(), outcome.kind().label(), e.getMessage());
        }
    }

    /**
     * Starts the job runtime with what {@code cellar serve} adds (the scheduler, the web page); this
     * facade is a bean of that context, named {@code cellar}, for the scheduler's firings to call.
     */
    public synchronized JobRuntime startJobs(JobRuntime.Extension extension) {
        if (jobs != null) {
            throw new IllegalStateException("the job runtime is already started");
        }
        java.util.Map<String, Object> singletons = new java.util.HashMap<>(extension.singletons());
        singletons.put("cellar", this);
        jobs = startRuntime(new JobRuntime.Extension(extension.sources(), extension.web(), extension.properties(), singletons));
        return jobs;
    }

    /** The job runtime, started on first use. */
    public synchronized JobRuntime jobs() {
        if (jobs == null) {
            jobs = startRuntime(JobRuntime.Extension.NONE);
        }
        return jobs;
    }

    /** The job runtime if this facade has started it (never starts it, never waits for one starting). */
    public java.util.Optional<JobRuntime> startedJobs() {
        return java.util.Optional.ofNullable(jobs);
    }

    /** Starts the job runtime; a catalog that cannot be opened is a one-line failure (exit code 1, or 5 when another process holds it). */
    private JobRuntime startRuntime(JobRuntime.Extension extension) {
        try {
            return JobRuntime.start(settings, extension);
        } catch (dev.cellar.catalog.CatalogUnavailableException e) {
            throw new CellarException(e.heldByAnotherProcess() ? ExitCode.BUSY : ExitCode.FAILED, e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        audit = null;
        if (jobs != null) {
            jobs.close();
            jobs = null;
        }
        if (auditCatalog != null) {
            auditCatalog.close();
            auditCatalog = null;
        }
    }
}
