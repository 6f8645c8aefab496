package dev.cellar.jobs.backup;

import dev.cellar.backup.BaseBackup;
import dev.cellar.config.CellarSettings;
import dev.cellar.config.ServerSettings;
import dev.cellar.jobs.JobHistory;
import dev.cellar.postgres.BackupSession;
import dev.cellar.postgres.Lsn;
import dev.cellar.postgres.PostgresConnector;
import dev.cellar.repository.Manifest;
import dev.cellar.repository.RepositoryLock;
import dev.cellar.storage.Storage;
import dev.cellar.storage.StorageOpener;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.Step;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.core.scope.context.ChunkContext;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * The base-backup job (jobs/base-backup.yaml): preflight, start, copy-files, stop, wait-wal,
 * commit. Identity: server + backup-id. A restart after a failure before {@code stop} opens a new
 * backup session and re-reads the files, referencing every frame the failed attempt published
 * (nothing stored is stored again); a restart after {@code stop} only finishes wait-wal and commit.
 */
@Configuration(proxyBeanMethods = false)
public class BaseBackupJobConfig {

    public static final String JOB = "base-backup";
    public static final String PREFLIGHT = "base-backup.preflight";
    public static final String START = "base-backup.start";
    public static final String COPY_FILES = "base-backup.copy-files";
    public static final String STOP = "base-backup.stop";
    public static final String WAIT_WAL = "base-backup.wait-wal";
    public static final String COMMIT = "base-backup.commit";

    /** Job parameters. {@code server} and {@code backup-id} identify the job; the others do not. */
    public static final String BACKUP_ID = "backup-id";
    public static final String FULL = "full";
    public static final String WAIT = "wait";
    public static final String BWLIMIT = "bwlimit";

    /** Checkpoint keys of the job execution context (they survive into a restart). */
    public static final String TYPE = "base-backup.type";
    public static final String PARENT = "base-backup.parent";
    public static final String START_LSN = "base-backup.start-lsn";
    public static final String START_TIME = "base-backup.start-time";
    /** The timeline the session started on (backup_label's START TIMELINE, read once the start's checkpoint is done). */
    public static final String START_TIMELINE = "base-backup.start-timeline";
    public static final String STOP_LSN = "base-backup.stop-lsn";
    public static final String STOP_TIME = "base-backup.stop-time";
    public static final String TIMELINE = "base-backup.timeline";
    public static final String BACKUP_LABEL = "base-backup.backup-label";
    public static final String TABLESPACE_MAP = "base-backup.tablespace-map";
    public static final String COPY_MANIFEST = "base-backup.copy-manifest";
    public static final String COPY_STATS = "base-backup.copy-stats";
    /** For an incremental: {@code wal-summaries} or {@code block-compare} (docs/design.md 5.6), and the range read or why not. */
    public static final String INCREMENTAL_METHOD = "base-backup.incremental-method";
    public static final String INCREMENTAL_NOTE = "base-backup.incremental-note";

    /** Progress keys of the copy-files step execution context. */
    public static final String FILES_DONE = "base-backup.copy-files.files-done";
    public static final String FILES_TOTAL = "base-backup.copy-files.files-total";
    public static final String BYTES_DONE = "base-backup.copy-files.bytes-done";
    public static final String BYTES_TOTAL = "base-backup.copy-files.bytes-total";
    public static final String MB_PER_SECOND = "base-backup.copy-files.mb-per-second";
    public static final String ETA_SECONDS = "base-backup.copy-files.eta-seconds";
    public static final String BYTES_STORED = "base-backup.copy-files.bytes-stored";
    public static final String BYTES_REUSED_FROM_FAILED = "base-backup.copy-files.bytes-reused-from-failed-attempt";
    public static final String BYTES_UNREAD = "base-backup.copy-files.bytes-unread";
    /** Stored bytes the workers hold and have not written to the repository yet (their open bundles). */
    public static final String BYTES_UNPUBLISHED = "base-backup.copy-files.bytes-unpublished";
    /** Segments of an incremental's WAL map summarized so far, and in all; saved while the map takes over a second. */
    public static final String WAL_SEGMENTS_DONE = "base-backup.copy-files.wal-segments-done";
    public static final String WAL_SEGMENTS_TOTAL = "base-backup.copy-files.wal-segments-total";

    private static final Logger log = LoggerFactory.getLogger(BaseBackupJobConfig.class);
    private static final Duration WAL_TIMEOUT = Duration.ofMinutes(5);

    @Bean
    public Job baseBackupJob(JobRepository repo, PlatformTransactionManager tm, CellarSettings settings) {
        // What each running execution holds between steps, by job execution id; released however it ends.
        Map<Long, BackupAttempt> attempts = new ConcurrentHashMap<>();
        JobExecutionListener release = new JobExecutionListener() {
            @Override
            public void afterJob(JobExecution execution) {
                describeIncremental(execution);
                BackupAttempt a = attempts.remove(execution.getId());
                if (a != null) {
                    try {
                        a.close();
                    } catch (Exception e) {
                        log.warn("Releasing the resources of backup execution {}: {}", execution.getId(), e.toString());
                    }
                }
            }
        };
        // Hooks first: their post-hook runs after `release` (listeners' afterJob run in reverse), once the session and lock are gone.
        return new JobBuilder(JOB, repo)
                .listener(new dev.cellar.jobs.JobHooks(settings, repo, dev.cellar.hooks.Hook.BACKUP, BaseBackupJobConfig::hookVariables))
                .listener(release)
                .start(step(PREFLIGHT, repo, tm, (c, ctx) -> preflight(c, ctx, attempt(attempts, c), settings)))
                .next(step(START, repo, tm, (c, ctx) -> start(ctx, attempt(attempts, c))))
                .next(dev.cellar.jobs.TaskletSteps.oneShot(COPY_FILES, repo, tm, (c, s) -> copyFiles(c, attempt(attempts, c), repo)))
                .next(step(STOP, repo, tm, (c, ctx) -> stop(ctx, attempt(attempts, c))))
                .next(step(WAIT_WAL, repo, tm, (c, ctx) -> waitWal(c, ctx, attempt(attempts, c), repo)))
                .next(step(COMMIT, repo, tm, (c, ctx) -> commit(ctx, attempt(attempts, c))))
                .build();
    }

    /** A committed incremental's exit message says how it found the changes, and why not from the WAL when it did not. */
    static void describeIncremental(JobExecution execution) {
        ExecutionContext ctx = execution.getExecutionContext();
        String method = ctx.getString(INCREMENTAL_METHOD, null);
        if (method == null || execution.getStatus() != org.springframework.batch.core.BatchStatus.COMPLETED) {
            return;
        }
        String note = ctx.getString(INCREMENTAL_NOTE, "");
        execution.setExitStatus(execution.getExitStatus().addExitDescription(
                BaseBackup.IncrementalMethod.WAL_SUMMARIES.id.equals(method)
                        ? "incremental from the WAL summaries: " + note
                        : "incremental by block comparison, not from the WAL summaries: " + note));
    }

    /**
     * CELLAR_BACKUP_ID; CELLAR_BACKUP_TYPE (full or incremental) and CELLAR_PARENT_ID once preflight decided them
     * (after, or before a restart); CELLAR_FULL_REQUESTED (--full).
     */
    static Map<String, String> hookVariables(JobExecution execution, dev.cellar.hooks.Hook.Phase phase) {
        ExecutionContext ctx = execution.getExecutionContext();
        Map<String, String> vars = new java.util.LinkedHashMap<>();
        vars.put("CELLAR_BACKUP_ID", execution.getJobParameters().getString(BACKUP_ID));
        vars.put("CELLAR_BACKUP_TYPE", ctx.getString(TYPE, ""));
        vars.put("CELLAR_PARENT_ID", ctx.getString(PARENT, ""));
        vars.put("CELLAR_FULL_REQUESTED", String.valueOf("true".equals(execution.getJobParameters().getString(FULL))));
        return vars;
    }

    private static BackupAttempt attempt(Map<Long, BackupAttempt> attempts, ChunkContext chunk) {
        return attempts.computeIfAbsent(chunk.getStepContext().getStepExecution().getJobExecutionId(), id -> new BackupAttempt());
    }

    private interface StepWork {
        void run(ChunkContext chunk, ExecutionContext jobContext) throws Exception;
    }

    /**
     * A one-shot tasklet step ({@link dev.cellar.jobs.TaskletSteps#oneShot}: outside a transaction, failed by every
     * exception, re-run on every restart) given the job context: each checks it to know what is already done.
     */
    private static Step step(String name, JobRepository repo, PlatformTransactionManager tm, StepWork work) {
        return dev.cellar.jobs.TaskletSteps.oneShot(name, repo, tm, (chunk, step) -> work.run(chunk, step.getJobExecution().getExecutionContext()));
    }

    private static String param(ChunkContext chunk, String name) {
        return chunk.getStepContext().getStepExecution().getJobParameters().getString(name);
    }

    private static void preflight(ChunkContext chunk, ExecutionContext ctx, BackupAttempt a, CellarSettings settings) throws Exception {
        ServerSettings server = settings.server(param(chunk, JobHistory.SERVER_PARAMETER));
        String id = param(chunk, BACKUP_ID);
        String bwlimit = param(chunk, BWLIMIT);
        a.storage = StorageOpener.open(settings.requireRepository(), bwlimit != null ? Long.parseLong(bwlimit) : server.bwlimit());
        a.failOnPageChecksum = server.failOnPageChecksum();
        a.lock = RepositoryLock.acquire(a.storage, server.name(), "backup", "base-backup " + id);
        // Create-then-check (docs/design.md 5.9): a prune holding `all` may be deleting what this backup would reference.
        java.util.List<String> pruning = RepositoryLock.holders(a.storage, server.name(), kind -> kind.equals("all"));
        if (!pruning.isEmpty()) {
            throw new IllegalStateException("a retention prune is running (" + String.join("; ", pruning) + "); run the backup again once it ends");
        }
        a.backup = new BaseBackup(a.storage, server, PostgresConnector.fromProcess());
        boolean full = "true".equals(param(chunk, FULL));
        a.plan = a.backup.plan(id, full, ctx.containsKey(TYPE) ? ctx.getString(PARENT, null) : null);
        if (ctx.containsKey(TYPE) && !ctx.getString(TYPE).equals(a.plan.type())) {
            throw new IllegalStateException("backup " + id + " was planned as " + ctx.getString(TYPE) + " and cannot change type on restart");
        }
        ctx.putString(TYPE, a.plan.type());
        if (a.plan.parentId() != null) {
            ctx.putString(PARENT, a.plan.parentId());
        }
        log.info("base-backup {} {}: {} backup{}", server.name(), id, a.plan.type(),
                a.plan.parentId() == null ? "" : " against " + a.plan.parentId());
    }

    private static void start(ExecutionContext ctx, BackupAttempt a) throws Exception {
        if (ctx.containsKey(STOP_LSN)) {
            return; // the session of an earlier attempt completed: nothing to redo
        }
        a.session = a.backup.startSession(a.plan);
        ctx.putString(START_LSN, a.session.startLsn().toString());
        ctx.putInt(START_TIMELINE, a.session.startTimeline());
        ctx.putString(START_TIME, Instant.now().toString());
        log.info("base-backup {}: backup session started at {}", a.plan.backupId(), a.session.startLsn());
    }

    private static void copyFiles(ChunkContext chunk, BackupAttempt a, JobRepository repo) throws Exception {
        StepExecution step = chunk.getStepContext().getStepExecution();
        ExecutionContext ctx = step.getJobExecution().getExecutionContext();
        if (ctx.containsKey(STOP_LSN)) {
            return;
        }
        String attempt = "e" + step.getJobExecutionId();
        ExecutionContext stepCtx = step.getExecutionContext();
        BaseBackup.CopyResult copy = a.backup.copy(a.plan, Lsn.parse(ctx.getString(START_LSN)), ctx.getInt(START_TIMELINE), attempt,
                new dev.cellar.jobs.StepProgress(step, repo, log, "base-backup " + a.plan.backupId() + ": copy-files"));
        a.copy = copy;
        stepCtx.putLong(BYTES_STORED, copy.bytesStored());
        stepCtx.putLong(BYTES_REUSED_FROM_FAILED, copy.bytesReusedFromFailedAttempt());
        step.setReadCount(copy.files());
        step.setWriteCount(copy.files());
        // Keep what was copied in the repository, so a restart after stop can commit without the session.
        String partial = "backups/" + a.plan.backupId() + "/copy-" + attempt + ".zst";
        a.storage.write(serverPath(a, partial), new Manifest(a.plan.backupId(), copy.entries()).encode(), Storage.IfExists.REPLACE);
        ctx.putString(COPY_MANIFEST, partial);
        ctx.putString(COPY_STATS, copy.bytesRead() + "," + copy.bytesStored() + "," + copy.bytesReused() + "," + copy.files() + "," + copy.pageFailures()
                + "," + copy.bytesUnread());
        if (copy.method() != null) {
            ctx.putString(INCREMENTAL_METHOD, copy.method().id);
            ctx.putString(INCREMENTAL_NOTE, copy.methodNote());
            stepCtx.putLong(BYTES_UNREAD, copy.bytesUnread());
            if (copy.method() == BaseBackup.IncrementalMethod.WAL_SUMMARIES) {
                log.info("base-backup {}: incremental from the WAL summaries ({}); {} MiB taken from the parent unread",
                        a.plan.backupId(), copy.methodNote(), copy.bytesUnread() >> 20);
            } else {
                log.info("base-backup {}: incremental by block comparison: {}", a.plan.backupId(), copy.methodNote());
            }
        }
        if (copy.pageFailures() > 0) {
            String where = copy.entries().stream().filter(e -> !e.pageFailures().isEmpty()).limit(3)
                    .map(e -> e.path() + " pages " + e.pageFailures()).collect(java.util.stream.Collectors.joining(", "));
            if (a.failOnPageChecksum) {
                throw new IllegalStateException(copy.pageFailures() + " pages failed their data checksum (page-checksum-failure: fail): " + where);
            }
            log.warn("base-backup {}: {} pages failed their data checksum: {}; the backup records them (show-backup)",
                    a.plan.backupId(), copy.pageFailures(), where);
        }
    }

    private static String serverPath(BackupAttempt a, String path) {
        return a.backup.serverName() + "/" + path;
    }

    private static void stop(ExecutionContext ctx, BackupAttempt a) throws Exception {
        if (ctx.containsKey(STOP_LSN)) {
            return;
        }
        BackupSession.Stop stop = a.session.stop();
        a.session.close();
        a.session = null;
        ctx.putString(STOP_LSN, stop.stopLsn().toString());
        ctx.putString(STOP_TIME, Instant.now().toString());
        ctx.putInt(TIMELINE, stop.timeline());
        ctx.putString(BACKUP_LABEL, stop.backupLabel());
        if (stop.tablespaceMap() != null) {
            ctx.putString(TABLESPACE_MAP, stop.tablespaceMap());
        }
        log.info("base-backup {}: backup session stopped at {}", a.plan.backupId(), stop.stopLsn());
    }

    private static void waitWal(ChunkContext chunk, ExecutionContext ctx, BackupAttempt a, JobRepository repo) throws Exception {
        if (!"true".equals(param(chunk, WAIT))) {
            return;
        }
        StepExecution step = chunk.getStepContext().getStepExecution();
        dev.cellar.jobs.StepProgress stop = new dev.cellar.jobs.StepProgress(step, repo, log, "base-backup " + a.plan.backupId() + ": wait-wal");
        a.backup.waitForWal(ctx.getInt(TIMELINE), Lsn.parse(ctx.getString(STOP_LSN)), a.plan.cluster().walSegmentSize(), WAL_TIMEOUT,
                stop::stopIfRequested);
    }

    private static void commit(ExecutionContext ctx, BackupAttempt a) throws Exception {
        BaseBackup.CopyResult copy = a.copy;
        if (copy == null) {
            Manifest m = Manifest.decode(a.storage.readAll(serverPath(a, ctx.getString(COPY_MANIFEST))));
            String[] s = ctx.getString(COPY_STATS).split(",");
            String method = ctx.getString(INCREMENTAL_METHOD, null);
            copy = new BaseBackup.CopyResult(m.entries(), Long.parseLong(s[0]), Long.parseLong(s[1]), Long.parseLong(s[2]),
                    Long.parseLong(s[3]), Long.parseLong(s[4]), 0, method == null ? null : BaseBackup.IncrementalMethod.of(method),
                    ctx.getString(INCREMENTAL_NOTE, null), s.length > 5 ? Long.parseLong(s[5]) : 0,
                    ctx.getInt(START_TIMELINE, ctx.getInt(TIMELINE)));
        }
        BackupSession.Stop stop = new BackupSession.Stop(Lsn.parse(ctx.getString(STOP_LSN)), ctx.getString(BACKUP_LABEL),
                ctx.getString(TABLESPACE_MAP, null), ctx.getInt(TIMELINE), Lsn.parse(ctx.getString(START_LSN)));
        var info = a.backup.commit(a.plan, stop, copy, Instant.parse(ctx.getString(START_TIME)), Instant.parse(ctx.getString(STOP_TIME)));
        a.storage.delete(serverPath(a, ctx.getString(COPY_MANIFEST)));
        log.info("base-backup {} {}: DONE, {} files, {} MiB in the data directory, {} MiB stored", info.server(), info.id(), info.files(),
                info.sizeBytes() >> 20, info.storedBytes() >> 20);
    }
}
