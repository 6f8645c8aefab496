package dev.cellar.web;

import dev.cellar.jobs.ExecutionDetail;
import dev.cellar.jobs.ExecutionSummary;
import dev.cellar.jobs.JobHistory;
import dev.cellar.jobs.StepSummary;
import dev.cellar.jobs.backup.BaseBackupJobConfig;
import dev.cellar.jobs.restore.RestoreJobConfig;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the metrics read from the job repository, for every process that shares the catalog (the
 * CLI's runs as well as this daemon's): FAILED executions per job and server in the last
 * {@link #FAILURE_WINDOW}, job instances whose latest execution is still FAILED or STOPPED, and the
 * throughput of the last COMPLETED backup and restore per server. Read at most once per
 * {@link #MAX_STALENESS}.
 */
public class JobStatistics {

    public static final Duration MAX_STALENESS = Duration.ofSeconds(10);
    public static final Duration FAILURE_WINDOW = Duration.ofHours(24);
    /** How many recent executions of a job are looked at for the unresolved count and the last COMPLETED one. */
    static final int SCAN = 200;

    /** A job and a server: the labels of the per-job metrics. */
    public record Key(String job, String server) {
    }

    /** One reading. Throughputs are bytes per second, absent when no COMPLETED execution recorded one. */
    public record Snapshot(Map<Key, Integer> failures, Map<Key, Integer> unresolved,
                           Map<String, Double> backupBytesPerSecond, Map<String, Double> restoreBytesPerSecond) {
    }

    private final JobHistory history;
    private final List<String> jobs;
    private final Clock clock;
    private Snapshot snapshot;
    private Instant readAt = Instant.MIN;

    public JobStatistics(JobHistory history, List<String> jobs, Clock clock) {
        this.history = history;
        this.jobs = List.copyOf(jobs);
        this.clock = clock;
    }

    public List<String> jobs() {
        return jobs;
    }

    public synchronized Snapshot snapshot() {
        Instant now = clock.instant();
        if (snapshot == null || !now.isBefore(readAt.plus(MAX_STALENESS))) {
            snapshot = read(now);
            readAt = now;
        }
        return snapshot;
    }

    public synchronized void invalidate() {
        snapshot = null;
    }

    private Snapshot read(Instant now) {
        LocalDateTime since = LocalDateTime.ofInstant(now.minus(FAILURE_WINDOW), ZoneId.systemDefault());
        Map<Key, Integer> failures = new HashMap<>();
        Map<Key, Integer> unresolved = new HashMap<>();
        Map<String, Double> backup = new HashMap<>();
        Map<String, Double> restore = new HashMap<>();
        for (String job : jobs) {
            for (ExecutionSummary e : history.list(new JobHistory.Filter(null, job, "FAILED", since, 10_000))) {
                failures.merge(new Key(job, e.server()), 1, Integer::sum);
            }
            Set<String> seen = new HashSet<>();
            for (ExecutionSummary e : history.list(new JobHistory.Filter(null, job, null, null, SCAN))) { // newest first
                if (!seen.add(e.identity())) {
                    continue; // an older execution of an instance already counted
                }
                if (e.status().equals("FAILED") || e.status().equals("STOPPED")) {
                    unresolved.merge(new Key(job, e.server()), 1, Integer::sum);
                }
                if (e.status().equals("COMPLETED") && e.server() != null) {
                    if (job.equals(BaseBackupJobConfig.JOB) && !backup.containsKey(e.server())) {
                        throughput(e.id(), BaseBackupJobConfig.COPY_FILES).ifPresent(v -> backup.put(e.server(), v));
                    } else if (job.equals(RestoreJobConfig.JOB) && !restore.containsKey(e.server())) {
                        throughput(e.id(), RestoreJobConfig.RESTORE_FILES).ifPresent(v -> restore.put(e.server(), v));
                    }
                }
            }
        }
        return new Snapshot(Map.copyOf(failures), Map.copyOf(unresolved), Map.copyOf(backup), Map.copyOf(restore));
    }

    /**
     * Bytes per second of a step, from the {@code <step>.mb-per-second} key its progress recorded (MiB/s,
     * as the step measured itself); else from its bytes done and duration.
     */
    private java.util.Optional<Double> throughput(long execution, String stepName) {
        ExecutionDetail detail = history.show(execution);
        for (StepSummary s : detail.steps()) {
            if (!s.name().equals(stepName)) {
                continue;
            }
            Object mbps = s.checkpoint().get(stepName + ".mb-per-second");
            if (mbps != null) {
                try {
                    // written with String.format("%.1f"): a locale may have put a comma there
                    return java.util.Optional.of(Double.parseDouble(mbps.toString().replace(',', '.')) * (1 << 20));
                } catch (NumberFormatException e) {
                    // fall through to the byte count
                }
            }
            Object bytes = s.checkpoint().get(stepName + ".bytes-done");
            if (bytes instanceof Number n && s.duration() != null && !s.duration().isZero()) {
                return java.util.Optional.of(n.doubleValue() / (s.duration().toMillis() / 1000.0));
            }
        }
        return java.util.Optional.empty();
    }
}
