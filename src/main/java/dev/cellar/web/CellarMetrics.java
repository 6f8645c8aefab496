package dev.cellar.web;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * Cellar's own Prometheus metrics (docs/web.md lists them with their meaning). Per server, from the
 * repository snapshot of {@link ServerStatusService}; per job and server, from the job repository
 * through {@link JobStatistics}. A value that does not exist yet (no backup, no verification) is NaN,
 * which Prometheus shows as such and alert rules can test with {@code absent}/{@code != NaN}.
 */
public class CellarMetrics implements MeterBinder {

    private final List<String> servers;
    private final ServerStatusService status;
    private final JobStatistics jobs;
    private final Clock clock;

    public CellarMetrics(List<String> servers, ServerStatusService status, JobStatistics jobs, Clock clock) {
        this.servers = List.copyOf(servers);
        this.status = status;
        this.jobs = jobs;
        this.clock = clock;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (String server : servers) {
            perServer(registry, "cellar.last.backup.age.seconds", "Seconds since the newest committed backup ended", server, s ->
                    s.lastBackup() == null ? Double.NaN : secondsSince(s.lastBackup().endTime()));
            perServer(registry, "cellar.last.wal.age.seconds", "Seconds since the newest WAL segment reached the repository (WAL index update)",
                    server, s -> s.lastWal() == null || s.lastWal().archivedAt() == null ? Double.NaN : secondsSince(s.lastWal().archivedAt()));
            perServer(registry, "cellar.spool.queue.files", "WAL files waiting in the spool for wal-sweep", server, s ->
                    s.spoolQueueFiles() == null ? Double.NaN : s.spoolQueueFiles());
            perServer(registry, "cellar.wal.errors", "Files wal-sweep kept aside in wal-errors/", server, s ->
                    s.error() != null ? Double.NaN : s.walErrors());
            perServer(registry, "cellar.verification.rto.seconds", "Measured RTO of the most recent verification restore", server, s ->
                    s.lastVerification() == null ? Double.NaN : s.lastVerification().rtoSeconds());
            perServer(registry, "cellar.last.backup.too.old", "1 when last-backup-maximum-age is set and broken, else 0", server, s ->
                    s.lastBackupTooOld() ? 1 : 0);
            Gauge.builder("cellar.backup.throughput.bytes.per.second", jobs,
                            j -> j.snapshot().backupBytesPerSecond().getOrDefault(server, Double.NaN))
                    .description("Copy rate of the last COMPLETED base-backup (its copy-files step)")
                    .tag("server", server).strongReference(true).register(registry);
            Gauge.builder("cellar.restore.throughput.bytes.per.second", jobs,
                            j -> j.snapshot().restoreBytesPerSecond().getOrDefault(server, Double.NaN))
                    .description("Write rate of the last COMPLETED restore (its restore-files step)")
                    .tag("server", server).strongReference(true).register(registry);
            for (String job : jobs.jobs()) {
                JobStatistics.Key key = new JobStatistics.Key(job, server);
                Gauge.builder("cellar.job.failures", jobs, j -> j.snapshot().failures().getOrDefault(key, 0))
                        .description("FAILED executions started in the last 24 hours (job repository, every process)")
                        .tags("job", job, "server", server).strongReference(true).register(registry);
                Gauge.builder("cellar.job.unresolved", jobs, j -> j.snapshot().unresolved().getOrDefault(key, 0))
                        .description("Job instances whose latest execution is FAILED or STOPPED (waiting for a restart)")
                        .tags("job", job, "server", server).strongReference(true).register(registry);
            }
        }
    }

    private void perServer(MeterRegistry registry, String name, String description, String server, ToDoubleFunction<ServerStatus> value) {
        Gauge.builder(name, status, s -> {
                    ServerStatus st = s.servers().get(server);
                    return st == null ? Double.NaN : value.applyAsDouble(st);
                })
                .description(description).tag("server", server).strongReference(true).register(registry);
    }

    private double secondsSince(String instant) {
        return Math.max(0, Duration.between(Instant.parse(instant), clock.instant()).toMillis() / 1000.0);
    }
}
