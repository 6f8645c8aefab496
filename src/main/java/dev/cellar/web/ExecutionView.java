package dev.cellar.web;

import dev.cellar.jobs.ExecutionDetail;
import dev.cellar.jobs.ExecutionSummary;
import dev.cellar.jobs.JobExecutionRecorder;
import dev.cellar.jobs.StepSummary;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON shapes of {@code /api/executions}. Spring Batch keeps times as local date-times of the
 * process that wrote them; they are given here as ISO-8601 instants in this host's zone, durations
 * as seconds (a running execution: so far).
 */
final class ExecutionView {

    private ExecutionView() {
    }

    /**
     * One line of the list: the execution and its steps' summed read and write counts.
     * {@code restartedAs}: the next execution of the same job instance, when there is one;
     * {@code restartable}: FAILED or STOPPED and the latest of its instance (what {@code jobs restart} accepts).
     */
    record Line(long id, String job, String server, String identity, String status, String exitCode, String start, String end,
                Double durationSeconds, long readCount, long writeCount, String exitMessage, Long restartedAs, boolean restartable) {
    }

    /** {@code GET /api/executions/{id}}. {@code failure} is the recorded root cause ({@code cellar.failure}), else null. */
    record Detail(Line execution, Map<String, String> parameters, Map<String, Object> context, String failure, List<Step> steps) {
    }

    record Step(long id, String name, String status, String exitCode, long readCount, long writeCount, long commitCount,
                long rollbackCount, long skipCount, String start, String end, Double durationSeconds, String exitMessage,
                String failure, Map<String, Object> checkpoint) {
    }

    static Line line(ExecutionDetail d, Long restartedAs) {
        ExecutionSummary s = d.execution();
        long read = d.steps().stream().mapToLong(StepSummary::readCount).sum();
        long write = d.steps().stream().mapToLong(StepSummary::writeCount).sum();
        return new Line(s.id(), s.job(), s.server(), s.identity(), s.status(), s.exitCode(), instant(s.start()), instant(s.end()),
                seconds(s.duration()), read, write, s.exitMessage(), restartedAs, restartedAs == null && restartable(s.status()));
    }

    static Detail detail(ExecutionDetail d, Long restartedAs) {
        List<Step> steps = d.steps().stream().map(s -> new Step(s.id(), s.name(), s.status(), s.exitCode(), s.readCount(), s.writeCount(),
                s.commitCount(), s.rollbackCount(), s.skipCount(), instant(s.start()), instant(s.end()), seconds(s.duration()),
                s.exitMessage(), failure(s.checkpoint()), plain(s.checkpoint()))).toList();
        return new Detail(line(d, restartedAs), d.parameters(), plain(d.context()), failure(d.context()), steps);
    }

    static boolean restartable(String status) {
        return status.equals("FAILED") || status.equals("STOPPED");
    }

    private static String failure(Map<String, Object> context) {
        Object f = context.get(JobExecutionRecorder.FAILURE);
        return f == null ? null : f.toString();
    }

    /** Execution-context values as JSON scalars: numbers and booleans as they are, anything else as its text. */
    private static Map<String, Object> plain(Map<String, Object> context) {
        Map<String, Object> out = new LinkedHashMap<>();
        context.forEach((k, v) -> out.put(k, v == null || v instanceof Number || v instanceof Boolean || v instanceof String ? v : v.toString()));
        return out;
    }

    static String instant(LocalDateTime t) {
        return t == null ? null : t.atZone(ZoneId.systemDefault()).toInstant().toString();
    }

    private static Double seconds(Duration d) {
        return d == null ? null : d.toMillis() / 1000.0;
    }
}
