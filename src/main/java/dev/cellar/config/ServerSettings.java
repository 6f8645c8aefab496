package dev.cellar.config;

import dev.cellar.retention.RetentionPolicy;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * One PostgreSQL server that Cellar backs up ({@code cellar.servers.<name>}).
 *
 * @param conninfo        pgjdbc URL; never carries a password (see {@link #passfile})
 * @param pgdata          the data directory read during base backups, when local
 * @param pgBin           PostgreSQL binaries; auto-detected when absent
 * @param walSpool        where {@code cellar-wal-archive} drops segments
 * @param passfile        a pgpass-format file for this server; else PGPASSWORD, PGPASSFILE or ~/.pgpass
 * @param schedules       Quartz cron expressions by job name (base-backup, wal-sweep, ...), or {@value #SCHEDULE_OFF}
 * @param failOnPageChecksum whether a base backup fails when a page fails its data checksum (else it warns and records it)
 * @param bwlimit         bytes per second a backup may write to the repository; 0 for no limit
 * @param spoolMaximumFiles {@code check} fails when more WAL files than this wait in the spool
 * @param hooks           pre/post hooks and their timeout (docs/hooks.md)
 */
public record ServerSettings(
        String name,
        String conninfo,
        Path pgdata,
        Path pgBin,
        Path walSpool,
        Path passfile,
        Compression compression,
        int parallel,
        RetentionPolicy retention,
        int minimumRedundancy,
        AgeLimit lastBackupMaximumAge,
        AgeLimit lastWalMaximumAge,
        Map<String, String> schedules,
        boolean failOnPageChecksum,
        long bwlimit,
        int spoolMaximumFiles,
        AgeLimit verificationMaximumAge,
        HookSettings hooks) {

    /** A {@code schedules} value that turns a job's default schedule off. */
    public static final String SCHEDULE_OFF = "off";


    public Optional<Path> pgdataPath() {
        return Optional.ofNullable(pgdata);
    }

    public Optional<Path> pgBinPath() {
        return Optional.ofNullable(pgBin);
    }

    public Optional<Path> passfilePath() {
        return Optional.ofNullable(passfile);
    }

    public Optional<RetentionPolicy> retentionPolicy() {
        return Optional.ofNullable(retention);
    }
}
