package dev.cellar.jobs.retention;

import dev.cellar.config.CellarSettings;
import dev.cellar.config.ServerSettings;
import dev.cellar.jobs.JobHistory;
import dev.cellar.jobs.TaskletSteps;
import dev.cellar.repository.RepositoryLock;
import dev.cellar.repository.ServerIdentity;
import dev.cellar.retention.PruneExecution;
import dev.cellar.retention.PrunePlan;
import dev.cellar.retention.PrunePlanner;
import dev.cellar.retention.RetentionPolicy;
import dev.cellar.storage.Storage;
import dev.cellar.storage.StorageOpener;
import dev.cellar.wal.WalIndex;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.scope.context.ChunkContext;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * The retention-prune job (jobs/retention-prune.yaml): plan, then execute. Identity: server + run.
 * The execution holds the server's {@code all} and {@code archive} locks from start to end and
 * refuses to act while a base backup or a restore holds its lock. The plan is kept in the job
 * context; execute is idempotent, so a restart after kill -9 finishes the same plan.
 */
@Configuration(proxyBeanMethods = false)
public class RetentionPruneJobConfig {

    public static final String JOB = "retention-prune";
    public static final String PLAN = "retention-prune.plan";
    public static final String EXECUTE = "retention-prune.execute";

    /** Job parameters. */
    public static final String RUN = "run";
    public static final String DRY_RUN = "dry-run";

    /** Checkpoint keys. */
    public static final String PLANNED = "retention-prune.plan.plan";
    public static final String DELETED_BYTES = "retention-prune.execute.bytes";
    public static final String DELETED_BACKUPS = "retention-prune.execute.backups";
    public static final String DELETED_WAL = "retention-prune.execute.wal-files";
    public static final String DELETED_BUNDLE_FILES = "retention-prune.execute.bundle-files";

    private static final Logger log = LoggerFactory.getLogger(RetentionPruneJobConfig.class);

    private record Held(Storage storage, List<RepositoryLock> locks) {
    }

    @Bean
    public Job retentionPruneJob(JobRepository repo, PlatformTransactionManager tm, CellarSettings settings) {
        Map<Long, Held> held = new ConcurrentHashMap<>();
        JobExecutionListener locks = new JobExecutionListener() {
            @Override
            public void beforeJob(JobExecution execution) {
                String server = execution.getJobParameters().getString(JobHistory.SERVER_PARAMETER);
                List<RepositoryLock> taken = new ArrayList<>();
                Storage storage = null;
                try {
                    storage = StorageOpener.open(settings.requireRepository());
                    taken.add(RepositoryLock.acquire(storage, server, "all", "retention-prune"));
                    taken.add(RepositoryLock.acquire(storage, server, "archive", "retention-prune"));
                    held.put(execution.getId(), new Held(storage, taken));
                } catch (IOException | RuntimeException e) {
                    release(new Held(storage, taken));
                    throw new IllegalStateException(e.getMessage(), e);
                }
            }

            @Override
            public void afterJob(JobExecution execution) {
                Held h = held.remove(execution.getId());
                if (h != null) {
                    release(h);
                }
            }
        };
        return new JobBuilder(JOB, repo)
                .listener(dev.cellar.jobs.JobHooks.warningsToExitStatus())
                .listener(locks)
                .start(TaskletSteps.oneShot(PLAN, repo, tm, (chunk, step) -> plan(chunk, settings)))
                .next(TaskletSteps.oneShot(EXECUTE, repo, tm, (chunk, step) -> execute(chunk, settings, repo)))
                .build();
    }

    private static void release(Held h) {
        for (int i = h.locks().size() - 1; i >= 0; i--) {
            try {
                h.locks().get(i).close();
            } catch (IOException e) {
                log.warn("releasing a prune lock: {}", e.toString());
            }
        }
        if (h.storage() != null) {
            try {
                h.storage().close();
            } catch (IOException e) {
                log.warn("closing the repository: {}", e.toString());
            }
        }
    }

    private static String param(ChunkContext chunk, String name) {
        return chunk.getStepContext().getStepExecution().getJobParameters().getString(name);
    }

    private static ExecutionContext jobContext(ChunkContext chunk) {
        return chunk.getStepContext().getStepExecution().getJobExecution().getExecutionContext();
    }

    /** Refuses to act while a base backup or a restore of the server runs. */
    private static void requireQuiet(Storage storage, String server) throws IOException {
        List<String> busy = RepositoryLock.holders(storage, server, kind -> kind.equals("backup") || kind.startsWith("restore-"));
        if (!busy.isEmpty()) {
            throw new IllegalStateException("retention waits: " + String.join("; ", busy) + ". Run 'cellar prune' again once it ends");
        }
    }

    private static void plan(ChunkContext chunk, CellarSettings settings) throws Exception {
        ExecutionContext ctx = jobContext(chunk);
        if (ctx.containsKey(PLANNED)) {
            return; // a restart carries out the plan it made
        }
        ServerSettings server = settings.server(param(chunk, JobHistory.SERVER_PARAMETER));
        RetentionPolicy policy = server.retentionPolicy().orElseThrow(() -> new IllegalStateException(
                "server " + server.name() + " has no retention policy (servers." + server.name() + ".retention); nothing is pruned without one"));
        try (Storage storage = StorageOpener.open(settings.requireRepository())) {
            requireQuiet(storage, server.name());
            long segmentSize = ServerIdentity.read(storage, server.name()).map(ServerIdentity::walSegmentSize).orElse(16L << 20);
            PrunePlan plan = new PrunePlanner(storage, server.name()).plan(policy, server.minimumRedundancy(), Instant.now(), segmentSize, false);
            ctx.putString(PLANNED, plan.encode());
            log.info("retention-prune {}: {} ({}): {} backups, {} WAL files, bundles in {} directories; {} MiB to free", server.name(), policy,
                    "true".equals(param(chunk, DRY_RUN)) ? "dry run" : "planned", plan.deleteBackups().size(), plan.deleteWal().size(),
                    plan.bundleDirectories().size(), plan.bytesFreed() >> 20);
        }
    }

    /**
     * The delete hooks around each backup the prune deletes (CELLAR_DELETED_BY=retention-prune): a failing pre-delete
     * stops the prune there (the step fails naming the hook; a restart carries on with the same plan); a failing
     * post-delete is a warning of the execution.
     */
    private static PruneExecution.BackupDeletions deleteHooks(ChunkContext chunk, CellarSettings settings, String server, JobRepository repo) {
        dev.cellar.hooks.HookRunner hooks = new dev.cellar.hooks.HookRunner(settings, server);
        JobExecution job = chunk.getStepContext().getStepExecution().getJobExecution();
        java.util.function.Function<String, Map<String, String>> vars = id -> Map.of("CELLAR_BACKUP_ID", id, "CELLAR_DELETED_BY", JOB,
                "CELLAR_JOB", JOB, "CELLAR_JOB_EXECUTION_ID", String.valueOf(job.getId()));
        return new PruneExecution.BackupDeletions() {
            @Override
            public void before(String backupId) {
                hooks.pre(dev.cellar.hooks.Hook.DELETE, vars.apply(backupId));
            }

            @Override
            public void after(String backupId, String error) {
                hooks.post(dev.cellar.hooks.Hook.DELETE, error == null ? "COMPLETED" : "FAILED", error, vars.apply(backupId))
                        .ifPresent(w -> dev.cellar.jobs.JobHooks.warn(job, w, repo));
            }
        };
    }

    private static void execute(ChunkContext chunk, CellarSettings settings, JobRepository repo) throws Exception {
        if ("true".equals(param(chunk, DRY_RUN))) {
            return;
        }
        PrunePlan plan = PrunePlan.decode(jobContext(chunk).getString(PLANNED));
        try (Storage storage = StorageOpener.open(settings.requireRepository())) {
            requireQuiet(storage, plan.server());
            long segmentSize = ServerIdentity.read(storage, plan.server()).map(ServerIdentity::walSegmentSize).orElse(16L << 20);
            PruneExecution.Outcome o;
            try {
                o = PruneExecution.execute(storage, plan, deleteHooks(chunk, settings, plan.server(), repo));
            } finally {
                if (!plan.deleteWal().isEmpty()) {
                    WalIndex.rebuild(storage, plan.server(), segmentSize); // whatever execute got to; also on a restart
                }
            }
            if (!o.keptSincePlanned().isEmpty()) {
                log.warn("retention-prune {}: backups {} were kept since the plan was made: not deleted, and no WAL or bundle either; "
                        + "run 'cellar prune' again for a new plan", plan.server(), o.keptSincePlanned());
            }
            ExecutionContext stepCtx = chunk.getStepContext().getStepExecution().getExecutionContext();
            stepCtx.putLong(DELETED_BYTES, o.bytes());
            stepCtx.putLong(DELETED_BACKUPS, o.backups());
            stepCtx.putLong(DELETED_WAL, o.walFiles());
            stepCtx.putLong(DELETED_BUNDLE_FILES, o.bundleFiles());
            log.info("retention-prune {}: deleted {} backups, {} WAL files, {} bundle files, {} MiB", plan.server(), o.backups(), o.walFiles(),
                    o.bundleFiles(), o.bytes() >> 20);
        }
    }
}
