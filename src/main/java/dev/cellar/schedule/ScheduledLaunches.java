package dev.cellar.schedule;

import dev.cellar.api.Cellar;
import dev.cellar.api.CellarException;
import dev.cellar.api.ExitCode;
import dev.cellar.jobs.ExecutionDetail;
import dev.cellar.jobs.ExecutionSummary;
import dev.cellar.jobs.JobHistory;
import dev.cellar.jobs.JobLaunchService;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * What a firing does: recover the executions its job left behind on a dead node, then launch the
 * job through the {@link Cellar} facade with the business key (the server, and the scheduled fire
 * time for backups and sweeps), exactly as the CLI would. A refused launch (busy, already done) is
 * logged and is not an error of the scheduler.
 */
@Component
public class ScheduledLaunches {

    private static final Logger log = LoggerFactory.getLogger(ScheduledLaunches.class);

    /** One firing: which job, for which server, for which scheduled time; whether Quartz re-delivers it after a node died. */
    public record Firing(String server, ScheduledJob job, Instant scheduledFireTime, boolean recovering, boolean restartOnly) {
    }

    /** How a firing ended, one line in the log (and in the tests' view of which node ran what). */
    public record Outcome(Firing firing, String status, Long execution, String detail) {
    }

    private final Cellar cellar;
    private final JobLaunchService launcher;
    private final ClusterState cluster;
    private final boolean clustered;
    /**
     * Per server: a prune (which takes the repository's {@code all} lock) runs alone; backups,
     * sweeps and verifications (locks {@code backup}, {@code archive} and {@code restore-*},
     * compatible with each other) run beside each other. Firings
     * of this node wait here instead of failing on the repository lock; the lock still guards
     * against other processes and nodes.
     */
    private final java.util.concurrent.ConcurrentMap<String, java.util.concurrent.locks.ReadWriteLock> serverLocks =
            new java.util.concurrent.ConcurrentHashMap<>();
    /**
     * Per server and job: one firing at a time in this node. Quartz's {@code @DisallowConcurrentExecution}
     * should ensure it, but ServeIT saw the start-up restart firing and a misfired regular firing of
     * one sweep run side by side (both triggers fired within milliseconds as the scheduler started).
     */
    private final java.util.concurrent.ConcurrentMap<String, java.util.concurrent.locks.Lock> jobLocks =
            new java.util.concurrent.ConcurrentHashMap<>();

    public ScheduledLaunches(Cellar cellar, JobLaunchService launcher, ClusterState cluster, dev.cellar.config.CellarSettings settings) {
        this.cellar = cellar;
        this.launcher = launcher;
        this.cluster = cluster;
        this.clustered = settings.catalog().isPostgres();
    }

    private volatile boolean stopping;

    /** From now on, firings launch nothing (serve is stopping; a firing already waiting for its turn gives up). */
    public void stopLaunching() {
        stopping = true;
    }

    public Outcome fire(Firing firing) {
        Outcome outcome;
        java.util.concurrent.locks.ReadWriteLock rw = serverLocks.computeIfAbsent(firing.server(),
                s -> new java.util.concurrent.locks.ReentrantReadWriteLock(true));
        java.util.concurrent.locks.Lock lock = firing.job() == ScheduledJob.RETENTION_PRUNE ? rw.writeLock() : rw.readLock();
        java.util.concurrent.locks.Lock one = jobLocks.computeIfAbsent(firing.server() + "/" + firing.job().jobName(),
                k -> new java.util.concurrent.locks.ReentrantLock(true));
        one.lock();
        lock.lock();
        try {
            if (stopping) {
                outcome = new Outcome(firing, "SKIPPED", null, "serve is stopping");
            } else {
                recoverLeftovers(firing);
                outcome = launch(firing);
            }
        } catch (CellarException e) {
            String status = e.exitCode() == ExitCode.BUSY ? "BUSY" : e.exitCode() == ExitCode.REFUSED ? "REFUSED" : "FAILED";
            outcome = stopping && versionConflict(e)
                    ? new Outcome(firing, "STOPPED", null, "asked to stop as it ended; the next start-up settles its record")
                    : new Outcome(firing, status, null, e.getMessage());
        } catch (RuntimeException e) {
            log.error("Scheduled {} of {} failed", firing.job().jobName(), firing.server(), e);
            outcome = new Outcome(firing, "FAILED", null, e.toString());
        } finally {
            lock.unlock();
            one.unlock();
        }
        String line = "Fired " + firing.job().jobName() + " for " + firing.server() + " scheduled " + firing.scheduledFireTime()
                + (firing.recovering() ? " (recovered from a dead node)" : "") + (firing.restartOnly() ? " (start-up restart)" : "")
                + " on node " + SchedulerInstance.id() + ": " + outcome.status()
                + (outcome.execution() == null ? "" : " execution " + outcome.execution())
                + (outcome.detail() == null || outcome.detail().isEmpty() ? "" : " - " + outcome.detail());
        if (outcome.status().equals("COMPLETED") || outcome.status().equals("NOTHING") || outcome.status().equals("SKIPPED")) {
            log.info(line);
        } else {
            log.warn(line);
        }
        return outcome;
    }

    /**
     * SIGTERM's stop request can reach an execution just as it saves its end: Spring Batch then refuses the job's own
     * update (the stop changed the record's version). The work is done; the record stays STOPPING until the next
     * start-up marks it FAILED and restarts it, which finds every step complete.
     */
    private static boolean versionConflict(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof org.springframework.dao.OptimisticLockingFailureException) {
                return true;
            }
        }
        return false;
    }

    private void recoverLeftovers(Firing firing) {
        launcher.recoverOrphans(); // executions of this host's dead processes
        if (clustered) {
            Set<String> live = cluster.liveNodes();
            launcher.recoverExecutionsOfDeadSchedulers(firing.job().jobName(), firing.server(),
                    id -> !id.equals(SchedulerInstance.id()) && !live.contains(id));
        }
    }

    private Outcome launch(Firing f) {
        if (f.restartOnly()) {
            List<ExecutionSummary> last = cellar.jobs().history().list(new JobHistory.Filter(f.server(), f.job().jobName(), null, null, 1));
            if (last.isEmpty() || !(last.get(0).status().equals("FAILED") || last.get(0).status().equals("STOPPED"))) {
                return new Outcome(f, "NOTHING", null, "nothing to restart");
            }
        }
        ExecutionDetail detail;
        switch (f.job()) {
            case BASE_BACKUP:
                detail = cellar.scheduledBackup(f.server(), f.scheduledFireTime()).execution();
                break;
            case WAL_SWEEP:
                detail = cellar.archiveWal(f.server(), f.scheduledFireTime());
                break;
            case VERIFY_RESTORE:
                detail = cellar.actingAs(dev.cellar.audit.Actor.scheduler(), () -> cellar.verify(f.server(), null, false)).execution();
                break;
            case RETENTION_PRUNE:
                detail = cellar.actingAs(dev.cellar.audit.Actor.scheduler(), () -> cellar.prune(f.server(), false)).execution();
                break;
            default:
                throw new IllegalStateException("no launch for " + f.job());
        }
        return new Outcome(f, detail.execution().status(), detail.execution().id(), detail.execution().exitMessage());
    }
}
