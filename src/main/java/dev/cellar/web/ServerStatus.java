package dev.cellar.web;

import java.util.List;

/**
 * One server as the page, {@code GET /api/servers}, the metrics and the health indicator see it,
 * read from the repository (and the spool directory) at {@link #checkedAt}. Times are ISO-8601
 * instants; ages are whole seconds at {@code checkedAt}; a null part means "none yet" (or, with
 * {@link #error}, "could not be read").
 *
 * @param lastBackupMaximumAge  the server's {@code last-backup-maximum-age}, null when not set
 * @param lastBackupTooOld      true when that limit is set and the newest backup is older, or there is none
 * @param lastWalMaximumAge     the server's {@code last-wal-maximum-age}, null when not set
 * @param lastWalTooOld         true when that limit is set and the newest WAL reached the repository longer ago
 * @param spoolQueueFiles       WAL files waiting in the spool for the sweep; null when the spool does not exist
 * @param walErrors             files the sweep kept aside under {@code wal-errors/}
 * @param problems              what makes the server unhealthy, one sentence each (empty: healthy)
 * @param error                 why the repository could not be read, else null
 */
public record ServerStatus(
        String name,
        String checkedAt,
        LastBackup lastBackup,
        String lastBackupMaximumAge,
        boolean lastBackupTooOld,
        int backups,
        LastWal lastWal,
        String lastWalMaximumAge,
        boolean lastWalTooOld,
        LastVerification lastVerification,
        Long spoolQueueFiles,
        int spoolMaximumFiles,
        int walErrors,
        List<String> problems,
        String error) {

    /** True when nothing makes the server unhealthy (see docs/web.md, "Health"). */
    public boolean healthy() {
        return problems.isEmpty();
    }

    /** The newest committed backup. {@code endTime} is when PostgreSQL's backup stopped. */
    public record LastBackup(String id, String type, String endTime, long ageSeconds, long sizeBytes, long storedBytes) {
    }

    /**
     * The newest archived WAL segment (highest timeline, highest segment) and when it reached the
     * repository: the WAL index's last update, written by the sweep right after it stores files.
     * {@code archivedAt} and {@code ageSeconds} are null when there is no index yet.
     */
    public record LastWal(String segment, int timeline, long segments, String archivedAt, Long ageSeconds) {
    }

    /** The most recent verification restore of any backup, with its measured RTO. */
    public record LastVerification(String backupId, boolean passed, String time, long ageSeconds, double rtoSeconds,
                                   double restoreSeconds, double replaySeconds, String failure) {
    }
}
