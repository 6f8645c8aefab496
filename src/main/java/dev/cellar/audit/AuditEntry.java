package dev.cellar.audit;

import java.time.Instant;

/**
 * One row of the audit ({@code CELLAR_AUDIT}): who did what to which target, when, and how it ended.
 *
 * @param action  the verb: {@code backup}, {@code delete}, {@code jobs abandon}, ...
 * @param server  the server acted on, when there is one
 * @param target  what was acted on: a backup ID, {@code execution 42}, a destination directory
 * @param detail  the request's options, one line
 */
public record AuditEntry(long id, Instant startedAt, Instant endedAt, String user, String runAs, String host, long pid,
                         String action, String server, String target, String detail, String outcome, String message) {
}
