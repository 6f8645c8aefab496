package dev.cellar.schedule;

import java.time.Instant;
import org.quartz.DisallowConcurrentExecution;
import org.quartz.Job;
import org.quartz.JobDataMap;
import org.quartz.JobExecutionContext;

/**
 * A Quartz firing of one job for one server, turned into a launch through the facade. There is one
 * Quartz job per server and job, and {@code @DisallowConcurrentExecution} makes two firings of it
 * wait for each other, across the nodes of a cluster too. Launches are synchronous, so the firing
 * lasts as long as the Spring Batch execution.
 */
@DisallowConcurrentExecution
public class ScheduledFiring implements Job {

    static final String SERVER = "server";
    static final String JOB = "job";
    /** Set on the firing {@code serve} triggers at start-up: restart an interrupted run, start nothing new. */
    static final String RESTART_ONLY = "restart-only";

    private final ScheduledLaunches launches;

    public ScheduledFiring(ScheduledLaunches launches) {
        this.launches = launches;
    }

    @Override
    public void execute(JobExecutionContext context) {
        JobDataMap data = context.getMergedJobDataMap();
        String server = data.getString(SERVER);
        ScheduledJob job = ScheduledJob.byName(data.getString(JOB)).orElseThrow();
        Instant scheduled = context.getScheduledFireTime() != null ? context.getScheduledFireTime().toInstant() : Instant.now();
        launches.fire(new ScheduledLaunches.Firing(server, job, scheduled, context.isRecovering(),
                data.containsKey(RESTART_ONLY) && data.getBooleanValue(RESTART_ONLY)));
    }
}
