package dev.cellar.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.api.Cellar;
import dev.cellar.config.SettingsLoader;
import dev.cellar.jobs.testjob.CountingJobConfig;
import dev.cellar.postgres.PostgresConnector;
import dev.cellar.testing.CliRun;
import dev.cellar.testing.PostgresCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.parameters.JobParametersBuilder;

/** The catalog on PostgreSQL (production and clustered schedulers): tables created, a failed job restarted from its checkpoint, the restart audited. */
class PostgresCatalogIT {

    @TempDir
    Path dir;

    @AfterEach
    void disarm() {
        CountingJobConfig.FAIL_AT = 0;
    }

    @Test
    void jobsRunAndRestartWithTheCatalogOnPostgres() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            pg.execute("CREATE ROLE cellar_catalog LOGIN PASSWORD 'catalog-pw'", "CREATE DATABASE cellar_catalog OWNER cellar_catalog");
            Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("cellar_catalog", "catalog-pw"));
            Path config = Files.writeString(dir.resolve("cellar.yaml"), """
                    cellar:
                      home: %s
                      catalog:
                        url: jdbc:postgresql://127.0.0.1:%d/cellar_catalog
                        user: cellar_catalog
                        passfile: %s
                    """.formatted(dir.resolve("home"), pg.port(), passfile));
            Path out = dir.resolve("numbers.txt");

            long failedId;
            try (Cellar cellar = new Cellar(new SettingsLoader(Map.of(), dir).load(config), new PostgresConnector(Map.of(), dir))) {
                CountingJobConfig.FAIL_AT = 77;
                JobExecution failed = cellar.jobs().launcher().launch(CountingJobConfig.JOB, new JobParametersBuilder()
                        .addString(JobHistory.SERVER_PARAMETER, "test").addString("out", out.toString(), false).toJobParameters());
                assertThat(failed.getStatus()).isEqualTo(BatchStatus.FAILED);
                failedId = failed.getId();
            }
            CountingJobConfig.FAIL_AT = 0;
            CliRun restart = CliRun.run(dir, "--config", config.toString(), "jobs", "restart", Long.toString(failedId));
            assertThat(restart.exitCode()).as(restart.toString()).isZero();
            // The job history's filters are SQL on the catalog: they run on PostgreSQL too.
            CliRun failures = CliRun.run(dir, "--config", config.toString(), "--json", "jobs", "list", "--status", "FAILED", "--server", "test",
                    "--since", "1d");
            assertThat(failures.exitCode()).as(failures.toString()).isZero();
            assertThat(failures.out()).contains("\"id\" : " + failedId).contains("\"status\" : \"FAILED\"");
            assertThat(Files.readAllLines(out).stream().map(Integer::parseInt).toList())
                    .isEqualTo(IntStream.rangeClosed(1, 100).boxed().toList());

            // serve's job gauges query the Batch tables directly: the same SQL on PostgreSQL as on H2.
            try (Cellar cellar = new Cellar(new SettingsLoader(Map.of(), dir).load(config), new PostgresConnector(Map.of(), dir))) {
                dev.cellar.web.JobStatistics.Snapshot stats = new dev.cellar.web.JobStatistics(cellar.jobs().bean(javax.sql.DataSource.class),
                        cellar.jobs().history(), List.of(CountingJobConfig.JOB), java.time.Clock.systemUTC()).snapshot();
                assertThat(stats.failures()).isEqualTo(Map.of(new dev.cellar.web.JobStatistics.Key(CountingJobConfig.JOB, "test"), 1));
                assertThat(stats.unresolved()).as("restarted and completed").isEmpty();
            }

            try (var c = pg.connect(); Statement s = c.createStatement()) {
                s.execute("SET search_path = public");
                List<String> tables = new java.util.ArrayList<>();
                try (ResultSet rs = s.executeQuery("SELECT tablename FROM pg_tables WHERE tableowner = 'cellar_catalog' ORDER BY 1")) {
                    while (rs.next()) {
                        tables.add(rs.getString(1));
                    }
                }
                // created in the catalog database, not in 'postgres'
                assertThat(tables).isEmpty();
            }
            try (var c = java.sql.DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.port() + "/cellar_catalog", "postgres", pg.password());
                 Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_tables WHERE tablename IN ('batch_job_instance', 'batch_step_execution', "
                         + "'qrtz_locks', 'qrtz_triggers', 'cellar_audit', 'cellar_schema_version')")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(6);
            }
            // The operator's restart is in the audit, on the PostgreSQL catalog (sql/catalog/postgresql/V1__audit.sql).
            CliRun audit = CliRun.run(dir, "--config", config.toString(), "--json", "jobs", "audit");
            assertThat(audit.exitCode()).as(audit.toString()).isZero();
            var rows = new com.fasterxml.jackson.databind.ObjectMapper().readTree(audit.out());
            assertThat(rows).hasSize(1);
            assertThat(rows.get(0).get("action").asText()).isEqualTo("jobs restart");
            assertThat(rows.get(0).get("target").asText()).isEqualTo("execution " + failedId);
            assertThat(rows.get(0).get("outcome").asText()).isEqualTo("ok");
            assertThat(rows.get(0).get("user").asText()).isEqualTo(System.getProperty("user.name"));
            CliRun refused = CliRun.run(dir, "--config", config.toString(), "jobs", "abandon", Long.toString(failedId + 1));
            assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(6);
            var after = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                    CliRun.run(dir, "--config", config.toString(), "--json", "jobs", "audit", "--outcome", "refused").out());
            assertThat(after).hasSize(1);
            assertThat(after.get(0).get("action").asText()).isEqualTo("jobs abandon");
        }
    }
}
