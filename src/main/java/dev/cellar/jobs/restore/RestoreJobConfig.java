package dev.cellar.jobs.restore;

import dev.cellar.config.CellarSettings;
import dev.cellar.config.ServerSettings;
import dev.cellar.jobs.JobHistory;
import dev.cellar.jobs.TaskletSteps;
import dev.cellar.repository.BackupInfo;
import dev.cellar.repository.Manifest;
import dev.cellar.repository.ManifestEntry;
import dev.cellar.repository.RepositoryLock;
import dev.cellar.repository.ServerIdentity;
import dev.cellar.restore.DataDirectoryRestore;
import dev.cellar.restore.PgBackupManifest;
import dev.cellar.restore.RecoveryConfiguration;
import dev.cellar.restore.RecoveryTarget;
import dev.cellar.restore.RestorePlan;
import dev.cellar.restore.RestorePlanner;
import dev.cellar.restore.WalStaging;
import dev.cellar.storage.Storage;
import dev.cellar.storage.StorageOpener;
import dev.cellar.wal.WalArchive;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.scope.context.ChunkContext;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * The restore job (jobs/restore.yaml): plan, restore-files, stage-wal, write-recovery-config.
 * Identity: server + destination + run. The plan is kept in the job context, so a restart
 * restores exactly the backup and WAL first planned; restore-files continues from the files
 * already complete in DEST (see {@link DataDirectoryRestore}); the later steps are redone.
 */
@Configuration(proxyBeanMethods = false)
public class RestoreJobConfig {

    public static final String JOB = "restore";
    public static final String PLAN = "restore.plan";
    public static final String RESTORE_FILES = "restore.restore-files";
    public static final String STAGE_WAL = "restore.stage-wal";
    public static final String WRITE_RECOVERY_CONFIG = "restore.write-recovery-config";

    /** Job parameters: server, destination and run identify; the rest describe the request. */
    public static final String DESTINATION = "destination";
    public static final String RUN = "run";
    public static final String BACKUP = "backup";
    public static final String TARGET = "target";
    public static final String TARGET_TIMELINE = "target-tli";
    public static final String TARGET_ACTION = "target-action";
    public static final String EXCLUSIVE = "exclusive";
    public static final String TABLESPACES = "tablespaces";
    public static final String DELTA = "delta";
    /** Bytes per second the restore reads from the repository ({@code recover --bwlimit}); absent: no limit. Not identifying. */
    public static final String BWLIMIT = "bwlimit";
    /** The whole request in one line: a restart continues only the same request. */
    public static final String REQUEST = "request";

    /** Checkpoint keys of the job execution context. */
    public static final String PLANNED = "restore.plan.plan";
    public static final String FILES_STARTED = "restore.restore-files.started";
    public static final String FILES_COMPLETE = "restore.restore-files.complete";

    /** Progress keys of the restore-files step execution context. */
    public static final String FILES_DONE = "restore.restore-files.files-done";
    public static final String FILES_TOTAL = "restore.restore-files.files-total";
    public static final String BYTES_DONE = "restore.restore-files.bytes-done";
    public static final String BYTES_TOTAL = "restore.restore-files.bytes-total";
    public static final String MB_PER_SECOND = "restore.restore-files.mb-per-second";
    public static final String ETA_SECONDS = "restore.restore-files.eta-seconds";
    public static final String BYTES_WRITTEN = "restore.restore-files.bytes-written";
    public static final String FILES_ALREADY_DONE = "restore.restore-files.files-already-done";
    public static final String FILES_UNCHANGED = "restore.restore-files.files-unchanged";
    public static final String PATHS_REMOVED = "restore.restore-files.paths-removed";
    /** Keys of the stage-wal step execution context. */
    public static final String WAL_FILES = "restore.stage-wal.files";
    public static final String WAL_BYTES = "restore.stage-wal.bytes";
    /** Progress keys of the stage-wal step execution context, saved about once a second while it runs. */
    public static final String WAL_FILES_DONE = "restore.stage-wal.files-done";
    public static final String WAL_FILES_TOTAL = "restore.stage-wal.files-total";
    public static final String WAL_BYTES_DONE = "restore.stage-wal.bytes-done";
    public static final String WAL_BYTES_TOTAL = "restore.stage-wal.bytes-total";
    public static final String WAL_MB_PER_SECOND = "restore.stage-wal.mb-per-second";
    public static final String WAL_ETA_SECONDS = "restore.stage-wal.eta-seconds";

    private static final Logger log = LoggerFactory.getLogger(RestoreJobConfig.class);

    @Bean
    public Job restoreJob(JobRepository repo, PlatformTransactionManager tm, CellarSettings settings) {
        // The restore lock (locks/restore-<run>.json) is held from the first step to the end of the execution,
        // so that retention (which respects it) deletes neither the backup nor its WAL meanwhile.
        Map<Long, Storage> storages = new java.util.concurrent.ConcurrentHashMap<>();
        Map<Long, RepositoryLock> locks = new java.util.concurrent.ConcurrentHashMap<>();
        JobExecutionListener lockHolder = new JobExecutionListener() {
            @Override
            public void beforeJob(JobExecution execution) {
                String server = execution.getJobParameters().getString(JobHistory.SERVER_PARAMETER);
                String run = execution.getJobParameters().getString(RUN);
                try {
                    Storage storage = StorageOpener.open(settings.requireRepository());
                    storages.put(execution.getId(), storage);
                    locks.put(execution.getId(), RepositoryLock.acquire(storage, server, "restore-" + run.replaceAll("[^0-9A-Za-z]", ""),
                            "restore into " + execution.getJobParameters().getString(DESTINATION)));
                    // Create-then-check (design 5.9): a prune holding `all` may be deleting the backup or its WAL.
                    List<String> pruning = RepositoryLock.holders(storage, server, kind -> kind.equals("all"));
                    if (!pruning.isEmpty()) {
                        throw new IllegalStateException("a retention prune is running (" + String.join("; ", pruning)
                                + "); restore again once it ends");
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }

            @Override
            public void afterJob(JobExecution execution) {
                try (Storage storage = storages.remove(execution.getId()); RepositoryLock lock = locks.remove(execution.getId())) {
                    log.debug("restore execution {} releases its lock", execution.getId());
                } catch (Exception e) {
                    log.warn("Releasing the restore lock of execution {}: {}", execution.getId(), e.toString());
                }
            }
        };
        return new JobBuilder(JOB, repo)
                .listener(new dev.cellar.jobs.JobHooks(settings, repo, dev.cellar.hooks.Hook.RECOVERY, RestoreJobConfig::hookVariables))
                .listener(lockHolder)
                .start(TaskletSteps.oneShot(PLAN, repo, tm, (c, step) -> plan(c, settings)))
                .next(TaskletSteps.oneShot(RESTORE_FILES, repo, tm, (c, step) -> restoreFiles(c, step, settings, repo)))
                .next(TaskletSteps.oneShot(STAGE_WAL, repo, tm, (c, step) -> stageWal(c, step, settings, repo)))
                .next(TaskletSteps.oneShot(WRITE_RECOVERY_CONFIG, repo, tm, (c, step) -> writeRecoveryConfig(c, settings)))
                .build();
    }

    /**
     * CELLAR_DESTINATION; CELLAR_BACKUP_ID (before: as requested, an ID, latest or auto; after planning: the backup
     * restored); CELLAR_RECOVERY_TARGET ({@code time:<instant>}, {@code lsn:X/X},
     * {@code xid:N}, {@code name:S}, {@code immediate}; empty: all archived WAL), CELLAR_TARGET_TIMELINE, CELLAR_TARGET_ACTION.
     */
    static Map<String, String> hookVariables(JobExecution execution, dev.cellar.hooks.Hook.Phase phase) {
        var p = execution.getJobParameters();
        Map<String, String> vars = new LinkedHashMap<>();
        vars.put("CELLAR_DESTINATION", p.getString(DESTINATION));
        String planned = execution.getExecutionContext().getString(PLANNED, null);
        vars.put("CELLAR_BACKUP_ID", planned != null ? RestorePlan.decode(planned).backupId() : p.getString(BACKUP));
        String target = p.getString(TARGET);
        vars.put("CELLAR_RECOVERY_TARGET", target == null || target.equals("end") ? "" : target); // time:<instant>, lsn:X/X, xid:N, name:S, immediate
        vars.put("CELLAR_TARGET_TIMELINE", p.getString(TARGET_TIMELINE) == null ? "" : p.getString(TARGET_TIMELINE));
        vars.put("CELLAR_TARGET_ACTION", p.getString(TARGET_ACTION) == null ? "" : p.getString(TARGET_ACTION));
        return vars;
    }

    /** The repository, reads held to the run's {@code --bwlimit} when it has one (restore-files, stage-wal). */
    private static Storage readLimited(ChunkContext chunk, CellarSettings settings) throws java.io.IOException {
        String bwlimit = param(chunk, BWLIMIT);
        return StorageOpener.open(settings.requireRepository(), bwlimit == null ? 0 : Long.parseLong(bwlimit),
                dev.cellar.storage.ThrottledStorage.Direction.READS);
    }

    private static String param(ChunkContext chunk, String name) {
        return chunk.getStepContext().getStepExecution().getJobParameters().getString(name);
    }

    private static ExecutionContext jobContext(ChunkContext chunk) {
        return chunk.getStepContext().getStepExecution().getJobExecution().getExecutionContext();
    }

    /** The tablespace remapping parameter: {@code OID=PATH} entries separated by newlines. */
    public static Map<String, Path> tablespaces(String parameter) {
        Map<String, Path> out = new LinkedHashMap<>();
        if (parameter != null && !parameter.isEmpty()) {
            for (String line : parameter.split("\n")) {
                int eq = line.indexOf('=');
                if (eq <= 0 || !line.substring(0, eq).matches("\\d+") || eq == line.length() - 1) {
                    throw new IllegalArgumentException("--tablespace '" + line + "' is not OID=PATH");
                }
                out.put(line.substring(0, eq), Path.of(line.substring(eq + 1)).toAbsolutePath().normalize());
            }
        }
        return out;
    }

    private static void plan(ChunkContext chunk, CellarSettings settings) throws Exception {
        ExecutionContext ctx = jobContext(chunk);
        if (ctx.containsKey(PLANNED)) {
            return; // a restart restores what was first planned
        }
        ServerSettings server = settings.server(param(chunk, JobHistory.SERVER_PARAMETER));
        Path dest = Path.of(param(chunk, DESTINATION));
        try (Storage storage = StorageOpener.open(settings.requireRepository())) {
            ServerIdentity identity = ServerIdentity.read(storage, server.name())
                    .orElseThrow(() -> new IllegalStateException("server " + server.name() + " has nothing in the repository"));
            RestorePlan plan = new RestorePlanner(storage, server.name(), identity).plan(param(chunk, BACKUP),
                    RecoveryTarget.decode(param(chunk, TARGET)), param(chunk, TARGET_TIMELINE), "true".equals(param(chunk, EXCLUSIVE)));
            BackupInfo backup = BackupInfo.read(storage, server.name(), plan.backupId()).orElseThrow();
            Manifest manifest = backup.manifest(storage);
            RecoveryConfiguration.checkQuotable(dest);
            DataDirectoryRestore.checkDestination(dest, server.pgdata(),
                    DataDirectoryRestore.tablespaceTargets(manifest, tablespaces(param(chunk, TABLESPACES))), "true".equals(param(chunk, DELTA)));
            ctx.putString(PLANNED, plan.encode());
            log.info("restore {}: backup {} into {}, target {}, timeline {}, WAL {} segments", server.name(), plan.backupId(), dest,
                    plan.target() == null ? "end of archived WAL" : plan.target().describe(), plan.timelineSetting(), plan.segments().size());
            plan.notes().forEach(n -> log.warn("restore {}: {}", server.name(), n));
        }
    }

    private static void restoreFiles(ChunkContext chunk, StepExecution step, CellarSettings settings, JobRepository repo) throws Exception {
        ExecutionContext ctx = jobContext(chunk);
        if (ctx.containsKey(FILES_COMPLETE)) {
            return;
        }
        ServerSettings server = settings.server(param(chunk, JobHistory.SERVER_PARAMETER));
        RestorePlan plan = RestorePlan.decode(ctx.getString(PLANNED));
        Path dest = Path.of(param(chunk, DESTINATION));
        boolean resume = ctx.containsKey(FILES_STARTED);
        ctx.putString(FILES_STARTED, "true");
        repo.updateExecutionContext(step.getJobExecution());
        try (Storage storage = readLimited(chunk, settings)) {
            BackupInfo backup = BackupInfo.read(storage, server.name(), plan.backupId())
                    .orElseThrow(() -> new IllegalStateException("backup " + plan.backupId() + " is no longer in the repository"));
            Manifest manifest = backup.manifest(storage);
            Map<String, Path> tablespaces = DataDirectoryRestore.tablespaceTargets(manifest, tablespaces(param(chunk, TABLESPACES)));
            ExecutionContext stepCtx = step.getExecutionContext();
            DataDirectoryRestore.Result r = new DataDirectoryRestore(storage, server.name(), server.parallel()).restore(backup, manifest, dest,
                    tablespaces, "true".equals(param(chunk, DELTA)), resume,
                    new dev.cellar.jobs.StepProgress(step, repo, log, "restore " + plan.backupId() + ": restore-files"));
            stepCtx.putLong(BYTES_WRITTEN, r.bytesWritten());
            stepCtx.putLong(FILES_ALREADY_DONE, r.filesAlreadyDone());
            stepCtx.putLong(FILES_UNCHANGED, r.filesUnchanged());
            stepCtx.putLong(PATHS_REMOVED, r.pathsRemoved());
            step.setReadCount(r.files());
            step.setWriteCount(r.files() - r.filesAlreadyDone() - r.filesUnchanged());
            ctx.putString(FILES_COMPLETE, "true");
            log.info("restore {}: {} files, {} MiB restored into {} ({} MiB written, {} already complete, {} unchanged)", plan.backupId(),
                    r.files(), r.bytes() >> 20, dest, r.bytesWritten() >> 20, r.filesAlreadyDone(), r.filesUnchanged());
        }
    }

    private static void stageWal(ChunkContext chunk, StepExecution step, CellarSettings settings, JobRepository repo) throws Exception {
        ServerSettings server = settings.server(param(chunk, JobHistory.SERVER_PARAMETER));
        RestorePlan plan = RestorePlan.decode(jobContext(chunk).getString(PLANNED));
        Path dest = Path.of(param(chunk, DESTINATION));
        try (Storage storage = readLimited(chunk, settings)) {
            ServerIdentity identity = ServerIdentity.read(storage, server.name()).orElseThrow();
            List<PgBackupManifest.FileRecord> staged = new WalStaging(new WalArchive(storage, server.name(), 3), identity.pgMajor(),
                    server.parallel()).stage(plan, dest, new dev.cellar.jobs.StepProgress(step, repo, log, "restore " + plan.backupId() + ": stage-wal"));
            step.getExecutionContext().putLong(WAL_FILES, staged.size());
            step.getExecutionContext().putLong(WAL_BYTES, staged.stream().mapToLong(PgBackupManifest.FileRecord::size).sum());
            step.setWriteCount(staged.size());
            log.info("restore {}: staged {} WAL files into {}", plan.backupId(), staged.size(), dest.resolve(WalStaging.DIRECTORY));
        }
    }

    private static void writeRecoveryConfig(ChunkContext chunk, CellarSettings settings) throws Exception {
        ServerSettings server = settings.server(param(chunk, JobHistory.SERVER_PARAMETER));
        RestorePlan plan = RestorePlan.decode(jobContext(chunk).getString(PLANNED));
        Path dest = Path.of(param(chunk, DESTINATION));
        String action = param(chunk, TARGET_ACTION);
        RecoveryConfiguration.write(dest, plan, plan.backupId(), server.name(),
                action == null ? null : RecoveryConfiguration.Action.valueOf(action.toUpperCase()), "true".equals(param(chunk, EXCLUSIVE)));
        try (Storage storage = StorageOpener.open(settings.requireRepository())) {
            BackupInfo backup = BackupInfo.read(storage, server.name(), plan.backupId()).orElseThrow();
            Manifest manifest = backup.manifest(storage);
            List<PgBackupManifest.FileRecord> files = new ArrayList<>();
            for (ManifestEntry e : manifest.entries()) {
                if (e.type() == ManifestEntry.Type.FILE && !e.path().equals("postgresql.auto.conf")) {
                    // A file a WAL-derived incremental read in part has no SHA-256 (its blocks were verified as restored):
                    // listed without a checksum, pg_verifybackup checks its size.
                    files.add(new PgBackupManifest.FileRecord(e.path(), e.size(), e.mtime(), e.sha256()));
                }
            }
            files.add(PgBackupManifest.FileRecord.of(dest, "backup_label"));
            try (DirectoryStream<Path> s = Files.newDirectoryStream(dest.resolve(WalStaging.DIRECTORY))) {
                for (Path p : s) {
                    files.add(PgBackupManifest.FileRecord.of(dest, WalStaging.DIRECTORY + "/" + p.getFileName()));
                }
            }
            files.sort(Comparator.comparing(PgBackupManifest.FileRecord::path));
            PgBackupManifest.write(dest, files, List.of(new PgBackupManifest.WalRange(backup.timeline(), backup.startLsn(), backup.stopLsn())));
        }
        log.info("restore {}: recovery configured in {} (recovery.signal, postgresql.auto.conf, backup_manifest)", plan.backupId(), dest);
    }
}
