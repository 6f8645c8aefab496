package dev.cellar.jobs;

import dev.cellar.api.CellarException;
import dev.cellar.api.ExitCode;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.infrastructure.item.ExecutionContext;
import org.springframework.stereotype.Service;

/** Read-only queries over the job repository: the audit trail of every job ever run. */
@Service
public class JobHistory {

    /** The identifying job parameter that names the server a job works for. */
    public static final String SERVER_PARAMETER = "server";

    private final JobRepository jobRepository;
    private final javax.sql.DataSource catalog;

    public JobHistory(JobRepository jobRepository, javax.sql.DataSource catalog) {
        this.jobRepository = jobRepository;
        this.catalog = catalog;
    }

    /** Filters for {@link #list}; null means any. */
    public record Filter(String server, String job, String status, LocalDateTime since, int limit) {
        public static Filter all() {
            return new Filter(null, null, null, null, 50);
        }
    }

    /**
     * Executions, newest first. The filters are applied by the catalog database over every
     * execution ever run (a minutely sweep makes a thousand a day: a failure from last week must not
     * hide behind today's runs), and only the {@code limit} that match are loaded.
     */
    public List<ExecutionSummary> list(Filter filter) {
        StringBuilder sql = new StringBuilder("SELECT E.JOB_EXECUTION_ID FROM BATCH_JOB_EXECUTION E"
                + " JOIN BATCH_JOB_INSTANCE I ON E.JOB_INSTANCE_ID = I.JOB_INSTANCE_ID WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (filter.job() != null) {
            sql.append(" AND I.JOB_NAME = ?");
            args.add(filter.job());
        }
        if (filter.status() != null) {
            sql.append(" AND E.STATUS = ?");
            args.add(filter.status().toUpperCase(java.util.Locale.ROOT));
        }
        if (filter.since() != null) {
            sql.append(" AND E.CREATE_TIME >= ?");
            args.add(java.sql.Timestamp.valueOf(filter.since()));
        }
        if (filter.server() != null) {
            sql.append(" AND EXISTS (SELECT 1 FROM BATCH_JOB_EXECUTION_PARAMS P WHERE P.JOB_EXECUTION_ID = E.JOB_EXECUTION_ID"
                    + " AND P.PARAMETER_NAME = ? AND P.PARAMETER_VALUE = ?)");
            args.add(SERVER_PARAMETER);
            args.add(filter.server());
        }
        sql.append(" ORDER BY E.JOB_EXECUTION_ID DESC");
        org.springframework.jdbc.core.JdbcTemplate jdbc = new org.springframework.jdbc.core.JdbcTemplate(catalog);
        jdbc.setMaxRows(Math.max(filter.limit(), 1));
        List<ExecutionSummary> out = new ArrayList<>();
        for (Long id : jdbc.queryForList(sql.toString(), Long.class, args.toArray())) {
            JobExecution e = find(jobRepository, id);
            if (e != null) {
                out.add(summary(e));
            }
        }
        return out;
    }

    public ExecutionDetail show(long executionId) {
        JobExecution e = find(jobRepository, executionId);
        if (e == null) {
            throw new CellarException(ExitCode.NOT_FOUND, "no job execution " + executionId);
        }
        Map<String, String> params = new TreeMap<>();
        e.getJobParameters().parameters().forEach(p -> params.put(p.name(), String.valueOf(p.value())));
        List<StepSummary> steps = e.getStepExecutions().stream()
                .sorted(Comparator.comparingLong(StepExecution::getId))
                .map(JobHistory::step)
                .toList();
        return new ExecutionDetail(summary(e), params, visible(e.getExecutionContext()), steps);
    }

    /** The execution with this id, or null (the JDBC repository throws for an unknown id). */
    static JobExecution find(JobRepository repository, long executionId) {
        try {
            return repository.getJobExecution(executionId);
        } catch (org.springframework.dao.EmptyResultDataAccessException e) {
            return null;
        }
    }

    static ExecutionSummary summary(JobExecution e) {
        String server = e.getJobParameters().getString(SERVER_PARAMETER);
        return new ExecutionSummary(
                e.getId(),
                e.getJobInstance().getJobName(),
                server,
                JobLaunchService.describe(e.getJobParameters()),
                e.getStatus().name(),
                e.getExitStatus().getExitCode(),
                e.getStartTime(),
                e.getEndTime(),
                duration(e.getStartTime(), e.getEndTime()),
                exitMessage(e.getExecutionContext(), e.getExitStatus().getExitDescription()));
    }

    private static StepSummary step(StepExecution s) {
        return new StepSummary(
                s.getId(),
                s.getStepName(),
                s.getStatus().name(),
                s.getExitStatus().getExitCode(),
                s.getReadCount(),
                s.getWriteCount(),
                s.getCommitCount(),
                s.getRollbackCount(),
                s.getSkipCount(),
                s.getStartTime(),
                s.getEndTime(),
                duration(s.getStartTime(), s.getEndTime()),
                exitMessage(s.getExecutionContext(), s.getExitStatus().getExitDescription()),
                visible(s.getExecutionContext()));
    }

    /** The execution context without Spring Batch's bookkeeping keys. */
    private static Map<String, Object> visible(ExecutionContext ctx) {
        return ctx.entrySet().stream()
                .filter(en -> !en.getKey().startsWith("batch."))
                .sorted(Map.Entry.comparingByKey())
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new));
    }

    private static Duration duration(LocalDateTime start, LocalDateTime end) {
        if (start == null) {
            return null;
        }
        return Duration.between(start, end == null ? LocalDateTime.now() : end);
    }

    /** The recorded root cause of a failure, else the first line of Spring Batch's exit description. */
    static String exitMessage(ExecutionContext ctx, String description) {
        if (ctx.containsKey(JobExecutionRecorder.FAILURE)) {
            return ctx.getString(JobExecutionRecorder.FAILURE);
        }
        if (description == null || description.isBlank()) {
            return "";
        }
        return description.lines().findFirst().orElse("");
    }
}
