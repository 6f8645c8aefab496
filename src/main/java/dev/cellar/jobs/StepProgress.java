package dev.cellar.jobs;

import org.slf4j.Logger;
import org.springframework.batch.core.job.JobInterruptedException;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.infrastructure.item.ExecutionContext;

/**
 * Progress of a long step (files and bytes done, MB/s, ETA), saved into its step execution context
 * under {@code <step>.files-done}, {@code .files-total}, {@code .bytes-done}, {@code .bytes-total},
 * {@code .mb-per-second}, {@code .eta-seconds} (so {@code cellar jobs show} sees it while it runs)
 * and logged, one line each time.
 *
 * <p>Each update also reads its job execution's status back from the job repository:
 * when the execution was asked to stop ({@code cellar jobs stop} from any process, SIGTERM of {@code cellar serve}, a
 * delegated command's Ctrl-C), {@link #update} throws {@link StopRequested}, the domain work stops its workers, and
 * the step ends STOPPED (restartable) within about a second instead of at its end.
 */
public final class StepProgress implements dev.cellar.backup.BaseBackup.Progress, dev.cellar.restore.DataDirectoryRestore.Progress {

    private final StepExecution step;
    private final JobRepository repo;
    private final Logger log;
    private final String what;
    private final long started = System.nanoTime();

    /** @param what how the log line begins, e.g. "base-backup 20261127T020000: copy-files" */
    public StepProgress(StepExecution step, JobRepository repo, Logger log, String what) {
        this.step = step;
        this.repo = repo;
        this.log = log;
        this.what = what;
    }

    @Override
    public void update(long filesDone, long filesTotal, long bytesDone, long bytesTotal) {
        record(filesDone, filesTotal, bytesDone, bytesTotal, -1);
        stopIfRequested();
    }

    /** A backup's copy: also saves {@code <step>.bytes-unpublished}, and says what is left to write once all is read. */
    @Override
    public void update(long filesDone, long filesTotal, long bytesDone, long bytesTotal, long bytesUnpublished) {
        record(filesDone, filesTotal, bytesDone, bytesTotal, bytesUnpublished);
        stopIfRequested();
    }

    /** The last report of a finished copy: recorded, and no stop check (the work is done; a stop lands at the next step). */
    @Override
    public void finished(long filesDone, long filesTotal, long bytesDone, long bytesTotal) {
        record(filesDone, filesTotal, bytesDone, bytesTotal, -1);
    }

    /**
     * An incremental's WAL map that takes more than a second (segments the sweep has not summarized yet): saved under
     * {@code <step>.wal-segments-done} and {@code .wal-segments-total}, logged, and a stop request ends it as it ends the copy.
     */
    @Override
    public void walSummaries(int segmentsDone, int segmentsTotal) {
        String prefix = step.getStepName();
        ExecutionContext ctx = step.getExecutionContext();
        ctx.putLong(prefix + ".wal-segments-done", segmentsDone);
        ctx.putLong(prefix + ".wal-segments-total", segmentsTotal);
        repo.updateExecutionContext(step);
        log.info("{} WAL map {}/{} segments summarized", what, segmentsDone, segmentsTotal);
        stopIfRequested();
    }

    /** @param bytesUnpublished stored bytes not yet written to the repository; negative when not known (not saved) */
    private void record(long filesDone, long filesTotal, long bytesDone, long bytesTotal, long bytesUnpublished) {
        double seconds = Math.max(0.001, (System.nanoTime() - started) / 1e9);
        double mbps = bytesDone / seconds / (1 << 20);
        long eta = bytesDone == 0 ? -1 : (long) ((bytesTotal - bytesDone) / (bytesDone / seconds));
        String prefix = step.getStepName();
        ExecutionContext ctx = step.getExecutionContext();
        ctx.putLong(prefix + ".files-done", filesDone);
        ctx.putLong(prefix + ".files-total", filesTotal);
        ctx.putLong(prefix + ".bytes-done", bytesDone);
        ctx.putLong(prefix + ".bytes-total", bytesTotal);
        ctx.putString(prefix + ".mb-per-second", String.format("%.1f", mbps));
        ctx.putLong(prefix + ".eta-seconds", eta);
        String unpublished = prefix + ".bytes-unpublished";
        if (bytesUnpublished >= 0) {
            ctx.putLong(unpublished, bytesUnpublished);
        } else if (ctx.containsKey(unpublished)) {
            ctx.putLong(unpublished, 0L); // the copy's last report: everything is written
        }
        repo.updateExecutionContext(step);
        // Once everything is read, what is left is writing the workers' last bundles: say so rather than "ETA 0s".
        String left = bytesUnpublished > 0 && bytesDone >= bytesTotal
                ? String.format("writing the last %.1f MiB to the repository", bytesUnpublished / 1048576.0)
                : "ETA " + (eta < 0 ? "-" : eta + "s");
        log.info("{} {}/{} files, {}/{} MiB, {} MiB/s, {}", what, filesDone, filesTotal, bytesDone >> 20, bytesTotal >> 20,
                String.format("%.0f", mbps), left);
    }

    /**
     * Throws {@link StopRequested} when the execution was asked to stop: its job execution, read back from the job
     * repository, is STOPPING. For steps that wait rather than copy (base-backup.wait-wal), called about once a second.
     * Read only: saving the step execution here would race with {@code cellar jobs stop}, which saves it too (a version
     * conflict that failed the step); Spring Batch reconciles the step's version when the step ends STOPPED.
     */
    public void stopIfRequested() {
        org.springframework.batch.core.job.JobExecution job = repo.getJobExecution(step.getJobExecutionId());
        if (job != null && (job.getStatus() == org.springframework.batch.core.BatchStatus.STOPPING
                || job.getStatus() == org.springframework.batch.core.BatchStatus.STOPPED)) {
            log.info("{}: the execution was asked to stop", what);
            throw new StopRequested(what);
        }
    }

    /**
     * The step's execution was asked to stop. Its cause is a {@link JobInterruptedException}, which Spring Batch turns
     * into a STOPPED step and job (not FAILED).
     */
    public static final class StopRequested extends RuntimeException {
        StopRequested(String what) {
            super(what + ": stopped on request", new JobInterruptedException(what + ": stopped on request"));
        }
    }
}
