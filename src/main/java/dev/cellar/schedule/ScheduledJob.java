package dev.cellar.schedule;

import java.util.Arrays;
import java.util.Optional;

/**
 * The jobs {@code cellar serve} schedules, each with its default schedule, its misfire policy and
 * what start-up does with its interrupted runs. Kept in step with {@code jobs/<name>.yaml}
 * ({@code default-schedule}, {@code misfire}, {@code restart-at-start-up}) by a test.
 */
public enum ScheduledJob {

    /** A missed nightly backup runs once at start-up; a failed one is restarted by its next firing. */
    BASE_BACKUP("base-backup", "0 0 2 * * ?", MisfirePolicy.RUN_ONCE_NOW, false),
    /** Missed sweeps coalesce into one run at start-up; an interrupted sweep is restarted at start-up. */
    WAL_SWEEP("wal-sweep", "0 * * * * ?", MisfirePolicy.RUN_ONCE_NOW, true),
    /** A missed verification runs once at start-up (a week without one is a gap in the evidence). */
    VERIFY_RESTORE("verify-restore", "0 0 4 ? * SUN", MisfirePolicy.RUN_ONCE_NOW, false),
    /** A missed prune waits for its next firing (nothing is urgent about deleting); an interrupted one finishes at start-up. */
    RETENTION_PRUNE("retention-prune", "0 30 3 * * ?", MisfirePolicy.SKIP_TO_NEXT, true);

    /** What happens to firings missed while no scheduler ran (or every worker was busy). */
    public enum MisfirePolicy {
        /** However many firings were missed, the job runs once, as soon as a scheduler can. */
        RUN_ONCE_NOW,
        /** Missed firings are dropped; the job runs at its next scheduled time. */
        SKIP_TO_NEXT
    }

    private final String jobName;
    private final String defaultSchedule;
    private final MisfirePolicy misfire;
    private final boolean restartAtStartUp;

    ScheduledJob(String jobName, String defaultSchedule, MisfirePolicy misfire, boolean restartAtStartUp) {
        this.jobName = jobName;
        this.defaultSchedule = defaultSchedule;
        this.misfire = misfire;
        this.restartAtStartUp = restartAtStartUp;
    }

    public String jobName() {
        return jobName;
    }

    public String defaultSchedule() {
        return defaultSchedule;
    }

    public MisfirePolicy misfire() {
        return misfire;
    }

    /** True when an execution this job left FAILED or STOPPED is restarted when {@code serve} starts. */
    public boolean restartAtStartUp() {
        return restartAtStartUp;
    }

    public static Optional<ScheduledJob> byName(String jobName) {
        return Arrays.stream(values()).filter(j -> j.jobName.equals(jobName)).findFirst();
    }
}
