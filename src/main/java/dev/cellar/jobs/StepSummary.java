package dev.cellar.jobs;

import java.time.Duration;
import java.time.LocalDateTime;
import java.util.Map;

/**
 * One step of {@code cellar jobs show}: its counts and its checkpoint (the step execution context,
 * Spring Batch's own bookkeeping keys left out).
 */
public record StepSummary(
        long id,
        String name,
        String status,
        String exitCode,
        long readCount,
        long writeCount,
        long commitCount,
        long rollbackCount,
        long skipCount,
        LocalDateTime start,
        LocalDateTime end,
        Duration duration,
        String exitMessage,
        Map<String, Object> checkpoint) {
}
