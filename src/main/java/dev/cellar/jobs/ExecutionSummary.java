package dev.cellar.jobs;

import java.time.Duration;
import java.time.LocalDateTime;

/** One line of {@code cellar jobs list}. Times are local to the catalog, as Spring Batch stores them. */
public record ExecutionSummary(
        long id,
        String job,
        String server,
        String identity,
        String status,
        String exitCode,
        LocalDateTime start,
        LocalDateTime end,
        Duration duration,
        String exitMessage) {
}
