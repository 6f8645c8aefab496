package dev.cellar.jobs.verify;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.core.type.TypeReference;
import dev.cellar.config.CellarSettings;
import dev.cellar.config.ServerSettings;
import dev.cellar.jobs.JobHistory;
import dev.cellar.jobs.TaskletSteps;
import dev.cellar.postgres.LocalPostgresServer;
import dev.cellar.postgres.PostgresBinaries;
import dev.cellar.repository.BackupCatalog;
import dev.cellar.repository.BackupInfo;
import dev.cellar.repository.Manifest;
import dev.cellar.repository.RepositoryLock;
import dev.cellar.repository.ServerIdentity;
import dev.cellar.restore.DataDirectoryRestore;
import dev.cellar.restore.RecoveryConfiguration;
import dev.cellar.restore.RecoveryTarget;
import dev.cellar.restore.RestorePlan;
import dev.cellar.restore.RestorePlanner;
import dev.cellar.restore.WalStaging;
import dev.cellar.storage.Storage;
import dev.cellar.storage.StorageOpener;
import dev.cellar.verify.RestoredClusterChecks;
import dev.cellar.verify.ScratchSpace;
import dev.cellar.verify.VerificationRecord;
import dev.cellar.wal.WalArchive;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.scope.context.ChunkContext;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * The verify-restore job (jobs/verify-restore.yaml): select, restore, start, check, stop-and-clean,
 * record. A backup is restored into scratch space with the restore job's code, started as a
 * throwaway server, promoted at the target (the backup's end, or the end of the archived WAL) and
 * checked; the result and the measured RTO go into the backup's metadata. The scratch directory and
 * the server are removed however the execution ends: by stop-and-clean, by the job's listener on
 * failure, and by the next verification when a killed one left them.
 */
@Configuration(proxyBeanMethods = false)
public class VerifyRestoreJobConfig {

    public static final String JOB = "verify-restore";
    public static final String SELECT = "verify-restore.select";
    public static final String RESTORE = "verify-restore.restore";
    public static final String START = "verify-restore.start";
    public static final String CHECK = "verify-restore.check";
    public static final String STOP_AND_CLEAN = "verify-restore.stop-and-clean";
    public static final String RECORD = "verify-restore.record";

    /** Job parameters: server and run identify; backup and to-end describe the request. */
    public static final String RUN = "run";
    public static final String BACKUP = "backup";
    public static final String TO_END = "to-end";

    /** Checkpoint keys of the job context. */
    public static final String BACKUP_ID = "verify-restore.select.backup-id";
    public static final String PLANNED = "verify-restore.select.plan";
    public static final String SCRATCH = "verify-restore.select.scratch";
    public static final String PG_BIN = "verify-restore.select.pg-bin";
    public static final String RESTORE_SECONDS = "verify-restore.restore.seconds";
    public static final String PORT = "verify-restore.start.port";
    public static final String REPLAY_SECONDS = "verify-restore.start.replay-seconds";
    public static final String CHECKS = "verify-restore.check.checks";
    public static final String CHECK_SECONDS = "verify-restore.check.seconds";
    public static final String RECORDED = "verify-restore.record.recorded";

    private static final Logger log = LoggerFactory.getLogger(VerifyRestoreJobConfig.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration AMCHECK_BUDGET = Duration.ofMinutes(5);

    private record Held(Storage storage, RepositoryLock lock) {
    }

    @Bean
    public Job verifyRestoreJob(JobRepository repo, PlatformTransactionManager tm, CellarSettings settings) {
        Map<Long, Held> held = new java.util.concurrent.ConcurrentHashMap<>();
        JobExecutionListener cleanup = new JobExecutionListener() {
            @Override
            public void beforeJob(JobExecution execution) {
                String server = execution.getJobParameters().getString(JobHistory.SERVER_PARAMETER);
                try {
                    for (Path p : ScratchSpace.cleanAbandoned(settings.home(), server)) {
                        log.warn("verify-restore {}: removed {} and stopped its server: the verification that made it no longer runs", server, p);
                    }
                } catch (IOException e) {
                    log.warn("verify-restore {}: cannot clean abandoned scratch space: {}", server, e.toString());
                }
                // A restore lock for the whole execution (retention keeps the backup and its WAL, and does not delete
                // the directory the result is recorded in); then back off if a prune already holds `all` (design 5.9).
                Storage storage = null;
                try {
                    storage = StorageOpener.open(settings.requireRepository());
                    RepositoryLock lock = RepositoryLock.acquire(storage, server, "restore-verify"
                            + execution.getJobParameters().getString(RUN).replaceAll("[^0-9A-Za-z]", ""), "verify-restore");
                    held.put(execution.getId(), new Held(storage, lock));
                    List<String> pruning = RepositoryLock.holders(storage, server, kind -> kind.equals("all"));
                    if (!pruning.isEmpty()) {
                        throw new IllegalStateException("a retention prune is running (" + String.join("; ", pruning) + "); verify again once it ends");
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }

            @Override
            public void afterJob(JobExecution execution) {
                try {
                    finish(execution);
                } finally {
                    Held h = held.remove(execution.getId());
                    if (h != null) {
                        try (Storage s = h.storage(); RepositoryLock l = h.lock()) {
                            log.debug("verify-restore execution {} releases its lock", execution.getId());
                        } catch (Exception e) {
                            log.warn("verify-restore: releasing the lock: {}", e.toString());
                        }
                    }
                }
            }

            private void finish(JobExecution execution) {
                ExecutionContext ctx = execution.getExecutionContext();
                if (execution.getStatus() == BatchStatus.COMPLETED || !ctx.containsKey(SCRATCH)) {
                    return;
                }
                // Failed: stop and clean whatever the steps left, and record the failure beside the backup.
                stopAndClean(ctx);
                if (!ctx.containsKey(RECORDED)) {
                    try {
                        String failure = ctx.getString("cellar.failure", execution.getExitStatus().getExitDescription());
                        record(settings, execution.getJobParameters().getString(JobHistory.SERVER_PARAMETER), ctx, failure);
                    } catch (Exception e) {
                        log.warn("verify-restore: cannot record the failed verification: {}", e.toString());
                    }
                }
            }
        };
        return new JobBuilder(JOB, repo)
                .listener(cleanup)
                .start(TaskletSteps.oneShot(SELECT, repo, tm, (c, s) -> select(c, settings)))
                .next(TaskletSteps.oneShot(RESTORE, repo, tm, (c, s) -> restore(c, s, settings)))
                .next(TaskletSteps.oneShot(START, repo, tm, (c, s) -> start(c)))
                .next(TaskletSteps.oneShot(CHECK, repo, tm, (c, s) -> check(c)))
                .next(TaskletSteps.oneShot(STOP_AND_CLEAN, repo, tm, (c, s) -> stopAndClean(jobContext(c))))
                .next(TaskletSteps.oneShot(RECORD, repo, tm, (c, s) -> recordStep(c, settings)))
                .build();
    }

    private static String param(ChunkContext chunk, String name) {
        return chunk.getStepContext().getStepExecution().getJobParameters().getString(name);
    }

    private static ExecutionContext jobContext(ChunkContext chunk) {
        return chunk.getStepContext().getStepExecution().getJobExecution().getExecutionContext();
    }

    /** The distribution's sql/verify, or the checkout's when run from it (tests). */
    static Path sqlDirectory() {
        String dist = System.getProperty("cellar.dist");
        if (dist != null && Files.isDirectory(Path.of(dist, "sql/verify"))) {
            return Path.of(dist, "sql/verify");
        }
        return Path.of("sql/verify");
    }

    /** Server binaries of the backup's major: the server's pg-bin, else an installed /usr/lib/postgresql/N, else pg_config's, else the shipped ones. */
    static PostgresBinaries binariesFor(ServerSettings server, int major) throws IOException {
        List<String> tried = new ArrayList<>();
        if (server.pgBinPath().isPresent()) {
            PostgresBinaries b = PostgresBinaries.of(server.pgBinPath().get(), "pg-bin");
            if (b.major() != major) {
                throw new IllegalStateException("the backup is of PostgreSQL " + major + ", but servers." + server.name() + ".pg-bin ("
                        + server.pgBinPath().get() + ") is PostgreSQL " + b.major());
            }
            return b;
        }
        Path installed = Path.of("/usr/lib/postgresql", Integer.toString(major), "bin");
        if (Files.isExecutable(installed.resolve("postgres"))) {
            return PostgresBinaries.of(installed, "/usr/lib/postgresql");
        }
        tried.add(installed.toString());
        String dist = System.getProperty("cellar.dist");
        try {
            PostgresBinaries b = PostgresBinaries.locate(null, dist == null ? null : Path.of(dist),
                    Path.of(System.getProperty("java.io.tmpdir"), "cellar-pg-" + System.getProperty("user.name")));
            if (b.major() == major) {
                return b;
            }
            tried.add(b.bin() + " (PostgreSQL " + b.major() + ")");
        } catch (IllegalArgumentException e) {
            tried.add(e.getMessage());
        }
        throw new IllegalStateException("no PostgreSQL " + major + " server binaries to start the restored backup with (tried "
                + String.join(", ", tried) + "); set servers." + server.name() + ".pg-bin");
    }

    private static void select(ChunkContext chunk, CellarSettings settings) throws Exception {
        ExecutionContext ctx = jobContext(chunk);
        ServerSettings server = settings.server(param(chunk, JobHistory.SERVER_PARAMETER));
        boolean toEnd = "true".equals(param(chunk, TO_END));
        try (Storage storage = StorageOpener.open(settings.requireRepository())) {
            List<BackupInfo> backups = new BackupCatalog(storage, server.name()).list();
            if (backups.isEmpty()) {
                throw new IllegalStateException("server " + server.name() + " has no backup to verify");
            }
            String wanted = ctx.getString(BACKUP_ID, param(chunk, BACKUP));
            BackupInfo backup = null;
            if (wanted != null) {
                backup = backups.stream().filter(b -> b.id().equals(wanted)).findFirst()
                        .orElseThrow(() -> new IllegalStateException("server " + server.name() + " has no backup " + wanted));
            } else {
                for (int i = backups.size() - 1; i >= 0 && backup == null; i--) {
                    Optional<VerificationRecord> v = VerificationRecord.read(storage, server.name(), backups.get(i).id());
                    if (v.isEmpty() || !v.get().passed()) {
                        backup = backups.get(i);
                    }
                }
                if (backup == null) {
                    backup = backups.get(backups.size() - 1); // all verified: the newest again
                }
            }
            ServerIdentity identity = ServerIdentity.read(storage, server.name()).orElseThrow();
            RestorePlan plan = new RestorePlanner(storage, server.name(), identity)
                    .plan(backup.id(), toEnd ? null : new RecoveryTarget.Immediate(), null, false);
            PostgresBinaries binaries = binariesFor(server, backup.pgMajor());
            long walBytes = (plan.lastSegment() - plan.firstSegment() + 1) * identity.walSegmentSize();
            ScratchSpace.requireSpace(settings.home(), backup.sizeBytes() + walBytes);
            ScratchSpace scratch = ScratchSpace.create(settings.home(), server.name(), param(chunk, RUN), binaries);
            ctx.putString(BACKUP_ID, backup.id());
            ctx.putString(PLANNED, plan.encode());
            ctx.putString(SCRATCH, scratch.dir().toString());
            ctx.putString(PG_BIN, binaries.bin().toString());
            log.info("verify-restore {}: backup {} ({}), PostgreSQL {} from {}, into {}", server.name(), backup.id(),
                    toEnd ? "to the end of the archived WAL" : "to its end", binaries.major(), binaries.bin(), scratch.dir());
        }
    }

    private static void restore(ChunkContext chunk, StepExecution step, CellarSettings settings) throws Exception {
        ExecutionContext ctx = jobContext(chunk);
        ServerSettings server = settings.server(param(chunk, JobHistory.SERVER_PARAMETER));
        RestorePlan plan = RestorePlan.decode(ctx.getString(PLANNED));
        ScratchSpace scratch = ScratchSpace.of(Path.of(ctx.getString(SCRATCH)));
        long started = System.nanoTime();
        try (Storage storage = StorageOpener.open(settings.requireRepository())) {
            BackupInfo backup = BackupInfo.read(storage, server.name(), plan.backupId()).orElseThrow();
            Manifest manifest = backup.manifest(storage);
            Path data = scratch.dataDir();
            if (Files.exists(data)) {
                LocalPostgresServer.run(List.of("rm", "-rf", data.toString()), 300); // a restart recreates it
            }
            Map<String, Path> tablespaces = new java.util.HashMap<>();
            for (String oid : DataDirectoryRestore.tablespaceTargets(manifest, Map.of()).keySet()) {
                tablespaces.put(oid, scratch.dir().resolve("tablespaces").resolve(oid));
            }
            DataDirectoryRestore.Result r = new DataDirectoryRestore(storage, server.name(), server.parallel())
                    .restore(backup, manifest, data, tablespaces, false, false, (f, ft, b, bt) -> { });
            ServerIdentity identity = ServerIdentity.read(storage, server.name()).orElseThrow();
            new WalStaging(new WalArchive(storage, server.name(), 3), identity.pgMajor(), server.parallel()).stage(plan, data);
            RecoveryConfiguration.write(data, plan, plan.backupId(), server.name(), plan.target() == null ? null : RecoveryConfiguration.Action.PROMOTE,
                    false);
            scratch.prepareCluster();
            step.setWriteCount(r.files());
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        ctx.putDouble(RESTORE_SECONDS, seconds);
        log.info("verify-restore: backup {} restored into {} in {}s", plan.backupId(), scratch.dataDir(), String.format("%.1f", seconds));
    }

    private static void start(ChunkContext chunk) throws Exception {
        ExecutionContext ctx = jobContext(chunk);
        ScratchSpace scratch = ScratchSpace.of(Path.of(ctx.getString(SCRATCH)));
        PostgresBinaries binaries = PostgresBinaries.of(Path.of(ctx.getString(PG_BIN)), "pg-bin");
        long started = System.nanoTime();
        LocalPostgresServer server = LocalPostgresServer.existing(binaries, scratch.dataDir(), scratch.socketDir());
        server.start(3600);
        ctx.putInt(PORT, server.port());
        server.awaitPrimary(3600);
        double seconds = (System.nanoTime() - started) / 1e9;
        ctx.putDouble(REPLAY_SECONDS, seconds);
        log.info("verify-restore: the restored copy recovered and was promoted in {}s (port {})", String.format("%.1f", seconds), server.port());
    }

    private static void check(ChunkContext chunk) throws Exception {
        ExecutionContext ctx = jobContext(chunk);
        long started = System.nanoTime();
        List<VerificationRecord.Check> checks = new RestoredClusterChecks(sqlDirectory(), AMCHECK_BUDGET).run(ctx.getInt(PORT));
        ctx.putString(CHECKS, JSON.writeValueAsString(checks));
        ctx.putDouble(CHECK_SECONDS, (System.nanoTime() - started) / 1e9);
        checks.forEach(c -> log.info("verify-restore: {} {}: {}", c.ok() ? "OK    " : "FAILED", c.name(), c.detail()));
    }

    private static void stopAndClean(ExecutionContext ctx) {
        if (!ctx.containsKey(SCRATCH)) {
            return;
        }
        PostgresBinaries binaries = null;
        try {
            binaries = PostgresBinaries.of(Path.of(ctx.getString(PG_BIN)), "pg-bin");
        } catch (RuntimeException e) {
            log.warn("verify-restore: binaries gone ({}); removing the scratch space only", e.getMessage());
        }
        ScratchSpace.of(Path.of(ctx.getString(SCRATCH))).remove(binaries);
    }

    private static void recordStep(ChunkContext chunk, CellarSettings settings) throws Exception {
        ExecutionContext ctx = jobContext(chunk);
        VerificationRecord r = record(settings, param(chunk, JobHistory.SERVER_PARAMETER), ctx, null);
        if (!r.passed()) {
            throw new IllegalStateException("verification of backup " + r.backupId() + " FAILED: " + r.failure());
        }
    }

    /** Writes the verification into the backup's metadata; failure null unless the job failed before its checks ended. */
    static VerificationRecord record(CellarSettings settings, String serverName, ExecutionContext ctx, String failure) throws Exception {
        ServerSettings server = settings.server(serverName);
        List<VerificationRecord.Check> checks = ctx.containsKey(CHECKS)
                ? JSON.readValue(ctx.getString(CHECKS), new TypeReference<List<VerificationRecord.Check>>() { })
                : List.of();
        String problem = failure;
        if (problem == null) {
            problem = checks.stream().filter(c -> !c.ok()).map(c -> c.name() + ": " + c.detail()).reduce((a, b) -> a + "; " + b).orElse(null);
        }
        double restore = ctx.getDouble(RESTORE_SECONDS, 0.0);
        double replay = ctx.getDouble(REPLAY_SECONDS, 0.0);
        double checking = ctx.getDouble(CHECK_SECONDS, 0.0);
        RestorePlan plan = RestorePlan.decode(ctx.getString(PLANNED));
        String postgres = ctx.getString(PG_BIN, "?");
        try {
            postgres = "PostgreSQL " + PostgresBinaries.of(Path.of(postgres), "pg-bin").major() + " (" + postgres + ")";
        } catch (RuntimeException e) {
            // the binaries are gone: their path says enough
        }
        VerificationRecord r = new VerificationRecord(ctx.getString(BACKUP_ID), problem == null && !checks.isEmpty(), Instant.now(),
                plan.target() == null, postgres, restore, replay, restore + replay + checking, checks, problem);
        try (Storage storage = StorageOpener.open(settings.requireRepository())) {
            r.write(storage, server.name());
        }
        ctx.putString(RECORDED, "true");
        log.info("verify-restore {}: backup {} {} (restore {}s, replay {}s, RTO {}s)", server.name(), r.backupId(), r.passed() ? "PASSED" : "FAILED",
                String.format("%.1f", restore), String.format("%.1f", replay), String.format("%.1f", r.rtoSeconds()));
        return r;
    }
}
