package dev.cellar.jobs;

import java.util.List;
import java.util.Map;

/** What {@code cellar jobs show EXECUTION} prints. */
public record ExecutionDetail(
        ExecutionSummary execution,
        Map<String, String> parameters,
        Map<String, Object> context,
        List<StepSummary> steps) {
}
