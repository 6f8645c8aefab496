package dev.cellar.web;

import dev.cellar.jobs.ExecutionDetail;
import dev.cellar.jobs.JobHistory;
import dev.cellar.jobs.StepSummary;
import dev.cellar.jobs.backup.BaseBackupJobConfig;
import dev.cellar.jobs.restore.RestoreJobConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * What the metrics read from the job repository, for every process that shares the catalog (the
 * CLI's runs as well as this daemon's): FAILED executions per job and server in the last
 * {@link #FAILURE_WINDOW}, job instances whose latest execution is still FAILED or STOPPED, and the
 * throughput of the last COMPLETED backup and restore per server. Read at most once per
 * {@link #MAX_STALENESS}, with aggregate queries on Spring Batch's tables (its {@code JobRepository}
 * API would load every execution one by one).
 */
public class JobStatistics {

    public static final Duration MAX_STALENESS = Duration.ofSeconds(10);
    public static final Duration FAILURE_WINDOW = Duration.ofHours(24);

    /** A job and a server: the labels of the per-job metrics. */
    public record Key(String job, String server) {
    }

    /** One reading. Throughputs are bytes per second, absent when no COMPLETED execution recorded one. */
    public record Snapshot(Map<Key, Integer> failures, Map<Key, Integer> unresolved,
                           Map<String, Double> backupBytesPerSecond, Map<String, Double> restoreBytesPerSecond) {
    }

    private final DataSource catalog;
    private final JobHistory history;
    private final List<String> jobs;
    private final ExpiringSnapshot<Snapshot> snapshot;

    public JobStatistics(DataSource catalog, JobHistory history, List<String> jobs, Clock clock) {
        this.catalog = catalog;
        this.history = history;
        this.jobs = List.copyOf(jobs);
        this.snapshot = new ExpiringSnapshot<>(clock, MAX_STALENESS, this::read);
    }

    public List<String> jobs() {
        return jobs;
    }

    public Snapshot snapshot() {
        return snapshot.get();
    }

    public void invalidate() {
        snapshot.invalidate();
    }

    /** Executions with their job name and {@code server} parameter (a job without one has a null server). */
    private static final String EXECUTIONS = "FROM BATCH_JOB_EXECUTION e JOIN BATCH_JOB_INSTANCE i ON i.JOB_INSTANCE_ID = e.JOB_INSTANCE_ID "
            + "LEFT JOIN BATCH_JOB_EXECUTION_PARAMS p ON p.JOB_EXECUTION_ID = e.JOB_EXECUTION_ID AND p.PARAMETER_NAME = '"
            + JobHistory.SERVER_PARAMETER + "' ";

    /**
     * Three aggregate queries on the job repository's tables (the same on H2 and PostgreSQL), however
     * many executions it holds: a year of minutely sweeps is half a million of them.
     */
    private Snapshot read(Instant now) {
        LocalDateTime since = LocalDateTime.ofInstant(now.minus(FAILURE_WINDOW), ZoneId.systemDefault());
        Map<Key, Integer> failures = new HashMap<>();
        Map<Key, Integer> unresolved = new HashMap<>();
        Map<String, Double> backup = new HashMap<>();
        Map<String, Double> restore = new HashMap<>();
        try (Connection c = catalog.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT i.JOB_NAME, p.PARAMETER_VALUE, COUNT(*) " + EXECUTIONS
                    + "WHERE e.STATUS = 'FAILED' AND e.CREATE_TIME >= ? GROUP BY i.JOB_NAME, p.PARAMETER_VALUE")) {
                ps.setTimestamp(1, Timestamp.valueOf(since));
                counts(ps, failures);
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT i.JOB_NAME, p.PARAMETER_VALUE, COUNT(*) " + EXECUTIONS
                    + "WHERE e.STATUS IN ('FAILED', 'STOPPED') AND e.JOB_EXECUTION_ID = "
                    + "(SELECT MAX(l.JOB_EXECUTION_ID) FROM BATCH_JOB_EXECUTION l WHERE l.JOB_INSTANCE_ID = e.JOB_INSTANCE_ID) "
                    + "GROUP BY i.JOB_NAME, p.PARAMETER_VALUE")) {
                counts(ps, unresolved);
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT i.JOB_NAME, p.PARAMETER_VALUE, MAX(e.JOB_EXECUTION_ID) " + EXECUTIONS
                    + "WHERE e.STATUS = 'COMPLETED' AND i.JOB_NAME IN (?, ?) GROUP BY i.JOB_NAME, p.PARAMETER_VALUE")) {
                ps.setString(1, BaseBackupJobConfig.JOB);
                ps.setString(2, RestoreJobConfig.JOB);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String job = rs.getString(1);
                        String server = rs.getString(2);
                        if (server == null) {
                            continue;
                        }
                        if (job.equals(BaseBackupJobConfig.JOB)) {
                            throughput(rs.getLong(3), BaseBackupJobConfig.COPY_FILES).ifPresent(v -> backup.put(server, v));
                        } else {
                            throughput(rs.getLong(3), RestoreJobConfig.RESTORE_FILES).ifPresent(v -> restore.put(server, v));
                        }
                    }
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the job repository: " + e.getMessage(), e);
        }
        return new Snapshot(Map.copyOf(failures), Map.copyOf(unresolved), Map.copyOf(backup), Map.copyOf(restore));
    }

    private static void counts(PreparedStatement ps, Map<Key, Integer> into) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                into.merge(new Key(rs.getString(1), rs.getString(2)), rs.getInt(3), Integer::sum);
            }
        }
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
