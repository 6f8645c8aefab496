package dev.cellar.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariDataSource;
import dev.cellar.api.Cellar;
import dev.cellar.config.CellarSettings;
import dev.cellar.config.SettingsLoader;
import dev.cellar.catalog.CatalogDataSource;
import dev.cellar.jobs.JobHistory;
import dev.cellar.jobs.testjob.CountingJobConfig;
import dev.cellar.postgres.PostgresConnector;
import dev.cellar.repository.ProcessOwner;
import dev.cellar.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.parameters.JobParametersBuilder;

/**
 * The audit of operator actions on a real H2 file catalog (the embedded default, AUTO_SERVER): actions
 * through the real command line are recorded with user, host and outcome, refusals included; two
 * processes share the catalog; the scheduler records as "scheduler".
 */
class AuditTest {

    @TempDir
    Path dir;

    Path config;

    @BeforeEach
    void setUp() throws Exception {
        Files.createDirectories(dir.resolve("repo"));
        // A server whose database is never contacted: the audited verbs here refuse before reaching it.
        config = Files.writeString(dir.resolve("cellar.yaml"), """
                cellar:
                  home: %s
                  repository: %s
                  servers:
                    main:
                      conninfo: jdbc:postgresql://127.0.0.1:1/postgres
                """.formatted(dir.resolve("home"), dir.resolve("repo")));
    }

    @AfterEach
    void disarm() {
        CountingJobConfig.FAIL_AT = 0;
    }

    private CellarSettings settings() {
        return new SettingsLoader(Map.of(), dir).load(config);
    }

    private CliRun cli(Map<String, String> env, String... args) {
        List<String> all = new ArrayList<>(List.of("--config", config.toString()));
        all.addAll(List.of(args));
        return CliRun.run(env, dir, all.toArray(String[]::new));
    }

    private long launch(String server, String run, int failAt) {
        try (Cellar cellar = new Cellar(settings(), new PostgresConnector(Map.of(), dir))) {
            CountingJobConfig.FAIL_AT = failAt;
            JobExecution e = cellar.jobs().launcher().launch(CountingJobConfig.JOB, new JobParametersBuilder()
                    .addString(JobHistory.SERVER_PARAMETER, server).addString("run", run)
                    .addString("out", dir.resolve("out-" + run).toString(), false).toJobParameters());
            assertThat(e.getStatus()).isEqualTo(failAt > 0 ? BatchStatus.FAILED : BatchStatus.COMPLETED);
            return e.getId();
        } finally {
            CountingJobConfig.FAIL_AT = 0;
        }
    }

    @Test
    void operatorActionsThroughTheCommandLineAreAuditedWithUserHostAndOutcomeRefusalsIncluded() throws Exception {
        long failed = launch("main", "a", 30);
        long completed = launch("main", "b", 0);
        Map<String, String> sudo = Map.of("SUDO_USER", "alice");
        String runAs = System.getProperty("user.name");

        CliRun abandon = cli(sudo, "jobs", "abandon", Long.toString(failed));
        assertThat(abandon.exitCode()).as(abandon.toString()).isZero();
        assertThat(abandon.out()).contains("ABANDONED");

        CliRun refused = cli(sudo, "jobs", "abandon", Long.toString(completed));
        assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(6);
        CliRun restartRefused = cli(Map.of(), "jobs", "restart", Long.toString(completed));
        assertThat(restartRefused.exitCode()).isEqualTo(6);
        CliRun missing = cli(Map.of(), "delete", "main", "20260101T000000Z");
        assertThat(missing.exitCode()).as(missing.toString()).isEqualTo(4);
        // Reading verbs are not audited.
        assertThat(cli(Map.of(), "jobs", "list").exitCode()).isZero();

        CliRun audit = cli(Map.of(), "--json", "jobs", "audit");
        assertThat(audit.exitCode()).as(audit.toString()).isZero();
        JsonNode rows = new ObjectMapper().readTree(audit.out());
        assertThat(rows).hasSize(4);
        JsonNode deleted = rows.get(0);
        assertThat(deleted.get("action").asText()).isEqualTo("delete");
        assertThat(deleted.get("outcome").asText()).isEqualTo("refused");
        assertThat(deleted.get("target").asText()).isEqualTo("20260101T000000Z");
        assertThat(deleted.get("user").asText()).isEqualTo(runAs);

        JsonNode restart = rows.get(1);
        assertThat(restart.get("action").asText()).isEqualTo("jobs restart");
        assertThat(restart.get("outcome").asText()).isEqualTo("refused");
        assertThat(restart.get("message").asText()).contains("is COMPLETED; only FAILED or STOPPED executions can be restarted");

        JsonNode abandonRefused = rows.get(2);
        assertThat(abandonRefused.get("action").asText()).isEqualTo("jobs abandon");
        assertThat(abandonRefused.get("target").asText()).isEqualTo("execution " + completed);
        assertThat(abandonRefused.get("outcome").asText()).isEqualTo("refused");
        assertThat(abandonRefused.get("message").asText()).isEqualTo(refused.err().strip().replaceFirst("^cellar: ", ""));
        assertThat(abandonRefused.get("user").asText()).isEqualTo("alice");

        JsonNode abandoned = rows.get(3);
        assertThat(abandoned.get("action").asText()).isEqualTo("jobs abandon");
        assertThat(abandoned.get("target").asText()).isEqualTo("execution " + failed);
        assertThat(abandoned.get("server").asText()).isEqualTo("main");
        assertThat(abandoned.get("outcome").asText()).isEqualTo("ok");
        assertThat(abandoned.get("detail").asText()).contains("test-count").contains("now ABANDONED");
        assertThat(abandoned.get("user").asText()).isEqualTo("alice");
        assertThat(abandoned.get("runAs").asText()).isEqualTo(runAs);
        assertThat(abandoned.get("host").asText()).isEqualTo(ProcessOwner.localHost());
        assertThat(Instant.parse(abandoned.get("startedAt").asText())).isBetween(Instant.now().minusSeconds(120), Instant.now());

        // Filters, and the text form.
        JsonNode abandons = new ObjectMapper().readTree(cli(Map.of(), "--json", "jobs", "audit", "--action", "jobs abandon").out());
        assertThat(abandons).hasSize(2);
        JsonNode refusals = new ObjectMapper().readTree(cli(Map.of(), "--json", "jobs", "audit", "--outcome", "refused", "--limit", "2").out());
        assertThat(refusals).hasSize(2);
        assertThat(refusals.get(0).get("action").asText()).isEqualTo("delete");
        assertThat(new ObjectMapper().readTree(cli(Map.of(), "--json", "jobs", "audit", "--since", "1h").out())).hasSize(4);
        CliRun text = cli(Map.of(), "jobs", "audit", "--action", "jobs abandon");
        assertThat(text.out()).contains("alice(" + runAs + ")").contains("refused").contains("ok").contains("execution " + failed)
                .contains(ProcessOwner.localHost());
        assertThat(cli(Map.of(), "jobs", "audit", "--since", "yesterday").exitCode()).isEqualTo(2);
        assertThat(cli(Map.of(), "jobs", "audit", "--outcome", "maybe").exitCode()).isEqualTo(2);
    }

    @Test
    void twoProcessesShareTheEmbeddedCatalogAndTheSchedulerRecordsAsScheduler() throws Exception {
        CellarSettings settings = settings();
        Files.createDirectories(settings.home());
        try (HikariDataSource ds = CatalogDataSource.open(settings, 2)) {
            AuditLog log = new AuditLog(ds);
            log.record(Actor.scheduler(), "backup", "main", "20261127T020000Z", "scheduled", AuditOutcome.ok("execution 7 COMPLETED"));

            // While this process holds the catalog open, another JVM records a refused action and reads ours.
            Process other = new ProcessBuilder(java(), "-cp", System.getProperty("java.class.path"), "dev.cellar.cli.CellarMain",
                    "--config", config.toString(), "keep", "main", "20260101T000000Z", "--target", "full")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("other.log").toFile()).start();
            assertThat(other.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(other.exitValue()).as(Files.readString(dir.resolve("other.log"))).isEqualTo(4);
            Process reader = new ProcessBuilder(java(), "-cp", System.getProperty("java.class.path"), "dev.cellar.cli.CellarMain",
                    "--config", config.toString(), "--json", "jobs", "audit", "--action", "backup")
                    .redirectOutput(dir.resolve("reader.json").toFile()).redirectError(dir.resolve("reader.log").toFile()).start();
            assertThat(reader.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(reader.exitValue()).as(Files.readString(dir.resolve("reader.log"))).isZero();
            JsonNode theirs = new ObjectMapper().readTree(dir.resolve("reader.json").toFile());
            assertThat(theirs).hasSize(1);
            assertThat(theirs.get(0).get("user").asText()).isEqualTo("scheduler");
            assertThat(theirs.get(0).get("target").asText()).isEqualTo("20261127T020000Z");

            List<AuditEntry> rows = log.list(new AuditLog.Filter(null, null, null, null, 10));
            assertThat(rows).hasSize(2);
            assertThat(rows.get(0).action()).isEqualTo("keep");
            assertThat(rows.get(0).outcome()).isEqualTo("refused");
            assertThat(rows.get(0).message()).isEqualTo("server main has no backup 20260101T000000Z");
            assertThat(rows.get(0).pid()).isEqualTo(other.pid());
            assertThat(rows.get(1).user()).isEqualTo(Actor.SCHEDULER);
            assertThat(rows.get(1).pid()).isEqualTo(ProcessHandle.current().pid());
            assertThat(log.list(new AuditLog.Filter(Instant.now().plusSeconds(60), null, null, null, 10))).isEmpty();
        }
    }

    @Test
    void theSchedulersCallsAreRecordedAsSchedulerOnAnOperatorsFacade() {
        try (Cellar cellar = new Cellar(settings(), new PostgresConnector(Map.of(), dir), Actor.operator(Map.of("SUDO_USER", "bob")))) {
            assertThat(cellar.actor().user()).isEqualTo("bob");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> cellar.actingAs(Actor.scheduler(),
                    () -> cellar.keep("main", "20260101T000000Z", dev.cellar.retention.KeepTarget.FULL, false)))
                    .hasMessage("server main has no backup 20260101T000000Z");
            assertThat(cellar.actor().user()).isEqualTo("bob");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> cellar.keep("main", "20260102T000000Z", null, true));
            List<AuditEntry> rows = cellar.auditEntries(new AuditLog.Filter(null, null, "main", "refused", 10));
            assertThat(rows).extracting(AuditEntry::user).containsExactly("bob", Actor.SCHEDULER);
            assertThat(rows).extracting(AuditEntry::action).containsExactly("keep --release", "keep");
        }
    }

    @Test
    void theMigrationRunsOnceAndIsRecorded() throws Exception {
        CellarSettings settings = settings();
        Files.createDirectories(settings.home());
        try (HikariDataSource ds = CatalogDataSource.open(settings, 2)) {
            assertThat(dev.cellar.catalog.CatalogSchema.ensure(ds)).isEqualTo(1);
            assertThat(dev.cellar.catalog.CatalogSchema.ensure(ds)).isEqualTo(1);
            try (var c = ds.getConnection(); var s = c.createStatement();
                 var rs = s.executeQuery("SELECT VERSION, NAME FROM CELLAR_SCHEMA_VERSION")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(1);
                assertThat(rs.getString(2)).isEqualTo("audit");
                assertThat(rs.next()).isFalse();
            }
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
