package dev.cellar.schedule;

import dev.cellar.api.Cellar;
import dev.cellar.api.CellarException;
import dev.cellar.api.ExitCode;
import dev.cellar.config.CellarSettings;
import dev.cellar.jobs.JobLaunchService;
import dev.cellar.jobs.JobRuntime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TimeZone;
import java.util.concurrent.CountDownLatch;
import org.quartz.CronScheduleBuilder;
import org.quartz.CronTrigger;
import org.quartz.JobBuilder;
import org.quartz.JobDetail;
import org.quartz.JobKey;
import org.quartz.Scheduler;
import org.quartz.SchedulerException;
import org.quartz.Trigger;
import org.quartz.TriggerBuilder;
import org.quartz.TriggerKey;
import org.quartz.impl.matchers.GroupMatcher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code cellar serve}: starts the job context with Quartz (and whatever else the caller adds, such
 * as the web page), puts the configured schedules in the job store, asks Quartz to restart the
 * interrupted runs of the jobs that say so, starts firing, and on SIGTERM stops gracefully: no new
 * firing, running executions asked to stop at their next checkpoint (they end STOPPED and
 * restartable), then the scheduler and the context close.
 */
public final class ServeDaemon implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ServeDaemon.class);

    /** The Quartz group of every schedule {@code serve} owns; jobs of other groups are left alone. */
    public static final String GROUP = "cellar";

    private final Cellar cellar;
    private final CellarSettings settings;
    private final JobRuntime runtime;
    private final Scheduler scheduler;
    private final SchedulePlan plan;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean stopping;

    private final SingleServeLock single;
    private final List<Runnable> beforeClose = new java.util.concurrent.CopyOnWriteArrayList<>();

    private ServeDaemon(Cellar cellar, JobRuntime runtime, Scheduler scheduler, SchedulePlan plan, SingleServeLock single) {
        this.single = single;
        this.cellar = cellar;
        this.settings = cellar.settings();
        this.runtime = runtime;
        this.scheduler = scheduler;
        this.plan = plan;
    }

    /**
     * Starts serving. {@code extraSources} are more Spring configuration classes (the web page);
     * {@code web} starts the embedded web server on {@code cellar.serve.listen}.
     */
    public static ServeDaemon start(Cellar cellar, List<Class<?>> extraSources, boolean web) {
        CellarSettings settings = cellar.settings();
        SingleServeLock single = settings.catalog().isPostgres() ? null : SingleServeLock.acquire(settings.home());
        System.setProperty(dev.cellar.repository.ProcessOwner.NODE_PROPERTY, SchedulerInstance.id());
        List<Class<?>> sources = new ArrayList<>();
        sources.add(SchedulerConfiguration.class);
        sources.add(ScheduledLaunches.class);
        sources.add(ClusterState.class);
        sources.addAll(extraSources);
        Map<String, Object> properties = new HashMap<>();
        properties.put("server.address", settings.serve().listenHost());
        properties.put("server.port", Integer.toString(settings.serve().listenPort()));
        properties.put("management.endpoints.web.exposure.include", "health,prometheus,info");
        properties.put("management.endpoint.health.show-details", "always");
        JobRuntime runtime;
        try {
            runtime = cellar.startJobs(new JobRuntime.Extension(sources, web, properties, Map.of()));
        } catch (RuntimeException e) {
            if (single != null) {
                single.close();
            }
            throw e;
        }
        try {
            Scheduler scheduler = runtime.bean(Scheduler.class);
            if (settings.catalog().isPostgres()) {
                // Repository locks of nodes the cluster found dead are stale (docs/design.md 5.9).
                dev.cellar.repository.ClusterNodes.install(runtime.bean(ClusterState.class)::isDead);
            }
            SchedulePlan plan = SchedulePlan.of(settings);
            ServeDaemon daemon = new ServeDaemon(cellar, runtime, scheduler, plan, single);
            daemon.install();
            scheduler.start();
            daemon.restartInterrupted();
            log.info("Serving {} schedule(s) as scheduler node {}{}", plan.entries().size(), SchedulerInstance.id(),
                    settings.catalog().isPostgres() ? " (clustered on the PostgreSQL catalog)" : "");
            return daemon;
        } catch (SchedulerException | java.text.ParseException | RuntimeException e) {
            cellar.close();
            if (single != null) {
                single.close();
            }
            throw new CellarException(ExitCode.FAILED, "cannot start the scheduler: " + e.getMessage(), e);
        }
    }

    public SchedulePlan plan() {
        return plan;
    }

    public JobRuntime runtime() {
        return runtime;
    }

    /** This node's scheduler instance ID (host:pid:start). */
    public String node() {
        return SchedulerInstance.id();
    }

    /**
     * Makes the job store hold exactly the plan's schedules: a trigger whose cron expression is
     * unchanged is kept as stored, so its next fire time survives a restart of {@code serve} and
     * a firing missed while nothing ran is seen as a misfire; changed ones are replaced; schedules
     * no longer configured are removed.
     */
    private void install() throws SchedulerException, java.text.ParseException {
        Set<JobKey> wanted = new HashSet<>();
        for (SchedulePlan.Entry e : plan.entries()) {
            JobKey key = jobKey(e.server(), e.job());
            wanted.add(key);
            JobDetail detail = JobBuilder.newJob(ScheduledFiring.class)
                    .withIdentity(key)
                    .withDescription(e.job().jobName() + " of server " + e.server())
                    .usingJobData(ScheduledFiring.SERVER, e.server())
                    .usingJobData(ScheduledFiring.JOB, e.job().jobName())
                    .storeDurably()
                    .requestRecovery() // a node dying mid-firing: another node fires it again
                    .build();
            CronScheduleBuilder cron = CronScheduleBuilder.cronSchedule(e.cron()).inTimeZone(TimeZone.getDefault());
            cron = e.job().misfire() == ScheduledJob.MisfirePolicy.RUN_ONCE_NOW
                    ? cron.withMisfireHandlingInstructionFireAndProceed()
                    : cron.withMisfireHandlingInstructionDoNothing();
            TriggerKey triggerKey = TriggerKey.triggerKey(key.getName(), GROUP);
            Trigger existing = scheduler.getTrigger(triggerKey);
            if (existing instanceof CronTrigger ct && ct.getCronExpression().equals(e.cron())
                    && ct.getMisfireInstruction() == misfireInstruction(e.job()) && scheduler.checkExists(key)) {
                scheduler.addJob(detail, true, true); // the trigger (and its next fire time) stays as stored
                continue;
            }
            if (existing == null && new org.quartz.CronExpression(e.cron()).getNextValidTimeAfter(new java.util.Date()) == null) {
                // e.g. a one-off "0 0 3 1 12 ? 2026" that has passed: keep the job (a firing in hand can still be recovered), no trigger
                scheduler.addJob(detail, true);
                log.info("{} for {} at \"{}\" will not fire again", e.job().jobName(), e.server(), e.cron());
                continue;
            }
            Trigger trigger = TriggerBuilder.newTrigger().withIdentity(triggerKey).forJob(key).withSchedule(cron).build();
            scheduler.scheduleJob(detail, Set.of(trigger), true);
            log.info("Scheduled {} for {} at \"{}\"{}", e.job().jobName(), e.server(), e.cron(), e.isDefault() ? " (default)" : "");
        }
        for (JobKey key : scheduler.getJobKeys(GroupMatcher.jobGroupEquals(GROUP))) {
            if (!wanted.contains(key)) {
                scheduler.deleteJob(key);
                log.info("Removed the schedule {} (no longer configured)", key.getName());
            }
        }
        for (String note : plan.notes()) {
            log.info(note);
        }
    }

    private static int misfireInstruction(ScheduledJob job) {
        return job.misfire() == ScheduledJob.MisfirePolicy.RUN_ONCE_NOW
                ? CronTrigger.MISFIRE_INSTRUCTION_FIRE_ONCE_NOW : CronTrigger.MISFIRE_INSTRUCTION_DO_NOTHING;
    }

    /** Fires, once and now, every scheduled job that restarts its interrupted runs at start-up (through its own Quartz job, so never beside a firing). */
    private void restartInterrupted() throws SchedulerException {
        for (SchedulePlan.Entry e : plan.entries()) {
            if (e.job().restartAtStartUp()) {
                org.quartz.JobDataMap data = new org.quartz.JobDataMap();
                data.put(ScheduledFiring.RESTART_ONLY, true);
                scheduler.triggerJob(jobKey(e.server(), e.job()), data);
            }
        }
    }

    static JobKey jobKey(String server, ScheduledJob job) {
        return JobKey.jobKey(server + "." + job.jobName(), GROUP);
    }

    /** Blocks until {@link #shutdown()} has finished. */
    public void awaitShutdown() throws InterruptedException {
        stopped.await();
    }

    /**
     * Graceful stop (SIGTERM): no new firing; every execution this process runs is asked to stop at
     * its next checkpoint; waits up to {@code cellar.serve.shutdown-timeout} for them, then closes.
     * An execution still running at the timeout is left to the next start-up's orphan recovery.
     */
    /**
     * {@code task} runs when the daemon stops, after its running executions were asked to stop and the scheduler's
     * jobs ended, before the job runtime closes: for work that runs jobs outside the scheduler (the command socket's
     * commands) to wait for them.
     */
    public void beforeClose(Runnable task) {
        beforeClose.add(task);
    }

    public synchronized void shutdown() {
        if (stopping) {
            return;
        }
        stopping = true;
        boolean abandoned = false;
        try {
            log.info("Stopping: no new firings; running jobs stop at their next checkpoint");
            runtime.bean(ScheduledLaunches.class).stopLaunching();
            scheduler.standby();
            JobLaunchService launcher = runtime.launcher();
            List<Long> asked = launcher.stopExecutionsOfThisProcess();
            if (!asked.isEmpty()) {
                log.info("Asked execution(s) {} to stop", asked);
            }
            Thread waiter = new Thread(() -> {
                try {
                    scheduler.shutdown(true);
                } catch (SchedulerException e) {
                    log.warn("Scheduler shutdown: {}", e.getMessage());
                }
            }, "cellar-serve-shutdown");
            waiter.start();
            waiter.join(settings.serve().shutdownTimeout().toMillis());
            if (waiter.isAlive()) {
                log.warn("Jobs still running after {}; exiting anyway (the next start-up marks them FAILED and restartable)",
                        settings.serve().shutdownTimeout());
                abandoned = true;
            } else {
                beforeClose.forEach(Runnable::run);
            }
        } catch (SchedulerException e) {
            log.warn("Scheduler standby: {}", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (!abandoned) {
                // Closing the context would wait for the running jobs once more (Quartz's own shutdown).
                cellar.close();
            }
            if (single != null) {
                single.close();
            }
            stopped.countDown();
            log.info("Stopped");
        }
    }

    @Override
    public void close() {
        shutdown();
    }
}
