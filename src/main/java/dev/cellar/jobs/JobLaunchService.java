package dev.cellar.jobs;

import dev.cellar.api.CellarException;
import dev.cellar.api.ExitCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.launch.JobExecutionNotRunningException;
import org.springframework.batch.core.launch.JobOperator;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.stereotype.Service;

/**
 * The one way Cellar starts jobs. A job's identity is its business key (server, backup ID, ...):
 * launching an identity whose last execution FAILED or STOPPED restarts that execution from its
 * checkpoints, never a fresh instance; an identity still running elsewhere is refused; a
 * COMPLETED identity is not run again.
 */
@Service
public class JobLaunchService {

    private static final Logger log = LoggerFactory.getLogger(JobLaunchService.class);

    private final JobOperator jobOperator;
    private final JobRepository jobRepository;
    private final Map<String, Job> jobs;

    public JobLaunchService(JobOperator jobOperator, JobRepository jobRepository, List<Job> jobs) {
        this.jobOperator = jobOperator;
        this.jobRepository = jobRepository;
        this.jobs = jobs.stream().collect(Collectors.toMap(Job::getName, Function.identity()));
    }

    /** Runs the job for this identity to its end (synchronously) and returns the execution. */
    public JobExecution launch(String jobName, JobParameters identity) {
        Job job = job(jobName);
        JobExecution last = jobRepository.getLastJobExecution(jobName, identity);
        try {
            if (last == null) {
                return jobOperator.start(job, identity);
            }
            if (last.getStatus().isRunning()) {
                last = recoverIfOrphaned(last);
            }
            return switch (last.getStatus()) {
                case FAILED, STOPPED -> {
                    log.info("Restarting {} execution {} ({}) from its checkpoints", jobName, last.getId(), last.getStatus());
                    yield jobOperator.restart(last);
                }
                case COMPLETED -> throw new CellarException(ExitCode.REFUSED,
                        jobName + " " + describe(identity) + " already COMPLETED as execution " + last.getId());
                case ABANDONED -> throw new CellarException(ExitCode.REFUSED,
                        jobName + " " + describe(identity) + " was ABANDONED (execution " + last.getId() + ") and cannot run again");
                default -> throw new CellarException(ExitCode.BUSY,
                        jobName + " " + describe(identity) + " is " + last.getStatus() + " as execution " + last.getId()
                                + (ExecutionOwner.of(last).map(o -> " on " + o.host() + " pid " + o.pid()).orElse("")));
            };
        } catch (CellarException e) {
            throw e;
        } catch (Exception e) {
            throw new CellarException(ExitCode.FAILED, "cannot run " + jobName + ": " + e.getMessage(), e);
        }
    }

    /** True when this identity has run (in any state). */
    public boolean exists(String jobName, JobParameters identity) {
        return jobRepository.getLastJobExecution(jobName, identity) != null;
    }

    /** Restarts a FAILED or STOPPED execution from its checkpoints ({@code cellar jobs restart}). */
    public JobExecution restart(long executionId) {
        JobExecution execution = execution(executionId);
        if (execution.getStatus().isRunning()) {
            execution = recoverIfOrphaned(execution);
        }
        if (execution.getStatus() != BatchStatus.FAILED && execution.getStatus() != BatchStatus.STOPPED) {
            throw new CellarException(ExitCode.REFUSED, "execution " + executionId + " is " + execution.getStatus()
                    + "; only FAILED or STOPPED executions can be restarted");
        }
        JobExecution newest = jobRepository.getLastJobExecution(execution.getJobInstance());
        if (newest != null && newest.getId() != executionId) {
            throw new CellarException(ExitCode.REFUSED, "execution " + executionId + " is not the latest of its job instance; restart "
                    + newest.getId() + " (" + newest.getStatus() + ") instead");
        }
        job(execution.getJobInstance().getJobName());
        try {
            return jobOperator.restart(execution);
        } catch (Exception e) {
            throw new CellarException(ExitCode.FAILED, "cannot restart execution " + executionId + ": " + e.getMessage(), e);
        }
    }

    /** Asks a running execution to stop at its next checkpoint ({@code cellar jobs stop}). */
    public void stop(long executionId) {
        JobExecution execution = execution(executionId);
        try {
            jobOperator.stop(execution);
        } catch (JobExecutionNotRunningException e) {
            throw new CellarException(ExitCode.REFUSED, "execution " + executionId + " is not running (" + execution.getStatus() + ")");
        }
    }

    /** Marks a stopped or failed execution ABANDONED so it is never restarted ({@code cellar jobs abandon}). */
    public JobExecution abandon(long executionId) {
        JobExecution execution = execution(executionId);
        if (execution.getStatus().isRunning()) {
            execution = recoverIfOrphaned(execution);
            if (execution.getStatus().isRunning()) {
                throw new CellarException(ExitCode.BUSY, "execution " + executionId + " is still running; stop it first");
            }
        }
        try {
            return jobOperator.abandon(execution);
        } catch (Exception e) {
            throw new CellarException(ExitCode.REFUSED, "cannot abandon execution " + executionId + ": " + e.getMessage(), e);
        }
    }

    /**
     * Marks FAILED every execution left running by a process of this host that no longer exists
     * (a crash, kill -9, power loss), so that it can be restarted. Called when a job-running process
     * starts. Executions of other hosts are left alone: their owner may be alive.
     */
    public List<JobExecution> recoverOrphans() {
        List<JobExecution> recovered = new ArrayList<>();
        for (String name : jobRepository.getJobNames()) {
            for (JobExecution e : jobRepository.findRunningJobExecutions(name)) {
                JobExecution after = recoverIfOrphaned(e);
                if (!after.getStatus().isRunning()) {
                    recovered.add(after);
                }
            }
        }
        return recovered;
    }

    /**
     * Marks FAILED the running executions of {@code jobName} for {@code server} that a
     * {@code cellar serve} node launched and that node is known dead ({@code isDead} says so: in a
     * cluster, the scheduler instances that stopped checking in). They can then be restarted.
     */
    public List<JobExecution> recoverExecutionsOfDeadSchedulers(String jobName, String server, java.util.function.Predicate<String> isDead) {
        List<JobExecution> recovered = new ArrayList<>();
        for (JobExecution e : jobRepository.findRunningJobExecutions(jobName)) {
            String scheduler = ExecutionOwner.schedulerOf(e).orElse(null);
            if (scheduler == null || !server.equals(e.getJobParameters().getString(JobHistory.SERVER_PARAMETER)) || !isDead.test(scheduler)) {
                continue;
            }
            log.warn("Execution {} of {} was left {} by scheduler node {}, which stopped checking in; marking it FAILED so it can be restarted",
                    e.getId(), jobName, e.getStatus(), scheduler);
            recovered.add(jobOperator.recover(e));
        }
        return recovered;
    }

    /**
     * Asks every execution this process runs to stop at its next checkpoint (graceful shutdown of
     * {@code cellar serve}); returns their IDs. Their executions end STOPPED and restartable.
     */
    public List<Long> stopExecutionsOfThisProcess() {
        long pid = ProcessHandle.current().pid();
        List<Long> stopped = new ArrayList<>();
        for (String name : jobRepository.getJobNames()) {
            for (JobExecution e : jobRepository.findRunningJobExecutions(name)) {
                if (ExecutionOwner.of(e).map(o -> o.pid() == pid && o.host().equals(dev.cellar.repository.ProcessOwner.localHost())).orElse(false)) {
                    try {
                        jobOperator.stop(e);
                        stopped.add(e.getId());
                    } catch (JobExecutionNotRunningException ignored) {
                        // it ended meanwhile
                    } catch (Exception ex) {
                        log.warn("Cannot stop execution {}: {}", e.getId(), ex.getMessage());
                    }
                }
            }
        }
        return stopped;
    }

    private JobExecution recoverIfOrphaned(JobExecution execution) {
        boolean dead = ExecutionOwner.of(execution).map(dev.cellar.repository.ProcessOwner::isDeadLocalProcess).orElse(false);
        if (!dead) {
            return execution;
        }
        log.warn("Execution {} of {} was left {} by a process that no longer runs; marking it FAILED so it can be restarted",
                execution.getId(), execution.getJobInstance().getJobName(), execution.getStatus());
        return jobOperator.recover(execution);
    }

    private JobExecution execution(long executionId) {
        JobExecution e = JobHistory.find(jobRepository, executionId);
        if (e == null) {
            throw new CellarException(ExitCode.NOT_FOUND, "no job execution " + executionId);
        }
        return e;
    }

    private Job job(String name) {
        Job job = jobs.get(name);
        if (job == null) {
            throw new CellarException(ExitCode.NOT_IMPLEMENTED, "job '" + name + "' is not available in this version; known jobs: "
                    + String.join(", ", new java.util.TreeSet<>(jobs.keySet())));
        }
        return job;
    }

    static String describe(JobParameters identity) {
        return identity.parameters().stream()
                .filter(p -> p.identifying())
                .map(p -> p.name() + "=" + p.value())
                .sorted()
                .collect(Collectors.joining(", ", "[", "]"));
    }
}
