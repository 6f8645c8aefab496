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
import org.springframework.batch.core.job.JobInstance;
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

    public JobHistory(JobRepository jobRepository) {
        this.jobRepository = jobRepository;
    }

    /** Filters for {@link #list}; null means any. */
    public record Filter(String server, String job, String status, LocalDateTime since, int limit) {
        public static Filter all() {
            return new Filter(null, null, null, null, 50);
        }
    }

    /** Executions, newest first. */
    public List<ExecutionSummary> list(Filter filter) {
        List<ExecutionSummary> out = new ArrayList<>();
        for (String name : jobRepository.getJobNames()) {
            if (filter.job() != null && !filter.job().equals(name)) {
                continue;
            }
            for (JobInstance instance : jobRepository.getJobInstances(name, 0, Math.max(filter.limit(), 1) * 4)) {
                for (JobExecution e : jobRepository.getJobExecutions(instance)) {
                    ExecutionSummary s = summary(e);
                    if (filter.server() != null && !filter.server().equals(s.server())) {
                        continue;
                    }
                    if (filter.status() != null && !filter.status().equalsIgnoreCase(s.status())) {
                        continue;
                    }
                    if (filter.since() != null && (e.getCreateTime() == null || e.getCreateTime().isBefore(filter.since()))) {
                        continue;
                    }
                    out.add(s);
                }
            }
        }
        out.sort(Comparator.comparingLong(ExecutionSummary::id).reversed());
        return out.size() > filter.limit() ? List.copyOf(out.subList(0, filter.limit())) : out;
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
