package dev.cellar.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cellar.api.Cellar;
import dev.cellar.api.CellarException;
import dev.cellar.api.ExitCode;
import dev.cellar.config.CellarSettings;
import dev.cellar.config.SettingsLoader;
import dev.cellar.jobs.testjob.CountingJobConfig;
import dev.cellar.postgres.PostgresConnector;
import dev.cellar.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.JobInstance;
import org.springframework.batch.core.job.parameters.JobParameters;
import org.springframework.batch.core.job.parameters.JobParametersBuilder;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.infrastructure.item.ExecutionContext;

/**
 * The job framework against an H2 catalog on disk: a job fails mid-step, an operator restarts it
 * through the command line in a fresh context, and it completes from its checkpoint with nothing
 * duplicated or lost.
 */
class JobRestartTest {

    @TempDir
    Path dir;

    Path config;
    Path out;

    @BeforeEach
    void setUp() throws Exception {
        config = Files.writeString(dir.resolve("cellar.yaml"), "cellar:\n  home: " + dir.resolve("home") + "\n");
        out = dir.resolve("numbers.txt");
    }

    @AfterEach
    void disarm() {
        CountingJobConfig.FAIL_AT = 0;
    }

    private Cellar cellar() {
        CellarSettings settings = new SettingsLoader(Map.of(), dir).load(config);
        return new Cellar(settings, new PostgresConnector(Map.of(), dir));
    }

    private JobParameters identity(String run) {
        return new JobParametersBuilder()
                .addString(JobHistory.SERVER_PARAMETER, "test")
                .addString("run", run)
                .addString("out", out.toString(), false)
                .toJobParameters();
    }

    private List<Integer> written() throws Exception {
        return Files.readAllLines(out).stream().map(Integer::parseInt).toList();
    }

    @Test
    void aJobThatFailsMidStepIsRestartedFromTheCommandLineAndCompletesFromItsCheckpoint() throws Exception {
        long failedId;
        try (Cellar cellar = cellar()) {
            CountingJobConfig.FAIL_AT = 55;
            JobExecution failed = cellar.jobs().launcher().launch(CountingJobConfig.JOB, identity("a"));
            assertThat(failed.getStatus()).isEqualTo(BatchStatus.FAILED);
            failedId = failed.getId();
        }
        // Chunks 1-10 .. 41-50 committed; the chunk holding item 55 rolled back.
        assertThat(written()).isEqualTo(IntStream.rangeClosed(1, 50).boxed().toList());

        CliRun show = CliRun.run(dir, "--config", config.toString(), "--json", "jobs", "show", Long.toString(failedId));
        assertThat(show.exitCode()).as(show.toString()).isZero();
        JsonNode failedStep = new ObjectMapper().readTree(show.out()).get("steps").get(0);
        assertThat(failedStep.get("name").asText()).isEqualTo(CountingJobConfig.STEP);
        assertThat(failedStep.get("status").asText()).isEqualTo("FAILED");
        assertThat(failedStep.get("exitMessage").asText()).contains("injected fault at item 55");
        assertThat(failedStep.get("checkpoint").get(CountingJobConfig.READER + ".read.count").asInt()).isEqualTo(50);

        CountingJobConfig.FAIL_AT = 0;
        CliRun restart = CliRun.run(dir, "--config", config.toString(), "jobs", "restart", Long.toString(failedId));
        assertThat(restart.exitCode()).as(restart.toString()).isZero();
        assertThat(restart.out()).contains("Restarted execution " + failedId).contains("status:   COMPLETED");

        // Every number exactly once: the restart read only 51..100.
        assertThat(written()).isEqualTo(IntStream.rangeClosed(1, 100).boxed().toList());

        CliRun list = CliRun.run(dir, "--config", config.toString(), "--json", "jobs", "list", "--job", CountingJobConfig.JOB);
        JsonNode rows = new ObjectMapper().readTree(list.out());
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0).get("status").asText()).isEqualTo("COMPLETED");
        assertThat(rows.get(1).get("status").asText()).isEqualTo("FAILED");
        assertThat(rows.get(1).get("id").asLong()).isEqualTo(failedId);
        long restartedId = rows.get(0).get("id").asLong();
        assertThat(rows.get(0).get("exitMessage").asText()).as("the failed attempt's root cause is not the completed one's").isEmpty();

        CliRun showRestarted = CliRun.run(dir, "--config", config.toString(), "--json", "jobs", "show", Long.toString(restartedId));
        JsonNode step = new ObjectMapper().readTree(showRestarted.out()).get("steps").get(0);
        assertThat(step.get("readCount").asInt()).isEqualTo(50);
        assertThat(step.get("writeCount").asInt()).isEqualTo(50);
        assertThat(step.get("checkpoint").get(CountingJobConfig.READER + ".read.count").asInt()).isEqualTo(100);
        assertThat(step.get("exitMessage").asText()).isEmpty();
        assertThat(step.get("checkpoint").has("cellar.failure")).isFalse();

        CliRun text = CliRun.run(dir, "--config", config.toString(), "jobs", "list");
        assertThat(text.out()).contains("test-count").contains("COMPLETED").contains("FAILED").contains("injected fault at item 55");
    }

    @Test
    void launchingAFailedIdentityAgainRestartsItInsteadOfStartingAFreshInstance() throws Exception {
        try (Cellar cellar = cellar()) {
            CountingJobConfig.FAIL_AT = 23;
            JobExecution first = cellar.jobs().launcher().launch(CountingJobConfig.JOB, identity("b"));
            assertThat(first.getStatus()).isEqualTo(BatchStatus.FAILED);
            CountingJobConfig.FAIL_AT = 0;
            JobExecution second = cellar.jobs().launcher().launch(CountingJobConfig.JOB, identity("b"));
            assertThat(second.getStatus()).isEqualTo(BatchStatus.COMPLETED);
            assertThat(second.getJobInstance().getInstanceId()).isEqualTo(first.getJobInstance().getInstanceId());
            assertThat(written()).isEqualTo(IntStream.rangeClosed(1, 100).boxed().toList());

            assertThatThrownBy(() -> cellar.jobs().launcher().launch(CountingJobConfig.JOB, identity("b")))
                    .isInstanceOf(CellarException.class)
                    .hasMessageContaining("already COMPLETED")
                    .extracting(e -> ((CellarException) e).exitCode()).isEqualTo(ExitCode.REFUSED);
        }
    }

    @Test
    void anExecutionLeftRunningByADeadProcessIsRecoveredAtStartUpAndCanBeRestarted() throws Exception {
        long orphanId;
        try (Cellar cellar = cellar()) {
            // What a kill -9 leaves behind: an execution and its step STARTED, owned by a process that is gone.
            Process gone = new ProcessBuilder("true").start();
            gone.waitFor();
            JobRepository repo = cellar.jobs().bean(JobRepository.class);
            JobParameters params = identity("c");
            JobInstance instance = repo.createJobInstance(CountingJobConfig.JOB, params);
            ExecutionContext ctx = new ExecutionContext();
            ExecutionOwner.writeTo(new dev.cellar.repository.ProcessOwner(dev.cellar.repository.ProcessOwner.localHost(), gone.pid(), 0), ctx);
            JobExecution orphan = repo.createJobExecution(instance, params, ctx);
            orphan.setStatus(BatchStatus.STARTED);
            orphan.setStartTime(java.time.LocalDateTime.now());
            repo.update(orphan);
            var step = repo.createStepExecution(CountingJobConfig.STEP, orphan);
            step.setStatus(BatchStatus.STARTED);
            step.setStartTime(java.time.LocalDateTime.now());
            step.getExecutionContext().putInt(CountingJobConfig.READER + ".read.count", 30);
            repo.update(step);
            repo.updateExecutionContext(step);
            orphanId = orphan.getId();
        }
        Files.writeString(out, IntStream.rangeClosed(1, 30).mapToObj(n -> n + "\n").reduce("", String::concat));

        // A new process (a fresh context) recovers it: FAILED, restartable.
        CliRun show = CliRun.run(dir, "--config", config.toString(), "--json", "jobs", "show", Long.toString(orphanId));
        assertThat(new ObjectMapper().readTree(show.out()).get("execution").get("status").asText()).as(show.toString()).isEqualTo("FAILED");

        CliRun restart = CliRun.run(dir, "--config", config.toString(), "jobs", "restart", Long.toString(orphanId));
        assertThat(restart.exitCode()).as(restart.toString()).isZero();
        assertThat(written()).isEqualTo(IntStream.rangeClosed(1, 100).boxed().toList());
    }

    @Test
    void anExecutionOwnedByALiveProcessIsNotTakenOver() throws Exception {
        try (Cellar cellar = cellar()) {
            JobRepository repo = cellar.jobs().bean(JobRepository.class);
            JobParameters params = identity("d");
            JobInstance instance = repo.createJobInstance(CountingJobConfig.JOB, params);
            ExecutionContext ctx = new ExecutionContext();
            ExecutionOwner.writeTo(dev.cellar.repository.ProcessOwner.current(), ctx);
            JobExecution running = repo.createJobExecution(instance, params, ctx);
            running.setStatus(BatchStatus.STARTED);
            repo.update(running);

            assertThatThrownBy(() -> cellar.jobs().launcher().launch(CountingJobConfig.JOB, params))
                    .isInstanceOf(CellarException.class)
                    .hasMessageContaining("is STARTED as execution " + running.getId())
                    .extracting(e -> ((CellarException) e).exitCode()).isEqualTo(ExitCode.BUSY);
            assertThat(cellar.jobs().launcher().recoverOrphans()).isEmpty();
        }
    }

    @Test
    void operatorErrorsHaveTheirExitCodes() {
        CliRun missing = CliRun.run(dir, "--config", config.toString(), "jobs", "show", "424242");
        assertThat(missing.exitCode()).isEqualTo(ExitCode.NOT_FOUND.code());
        assertThat(missing.err()).contains("no job execution 424242");

        CliRun restartMissing = CliRun.run(dir, "--config", config.toString(), "--json", "jobs", "restart", "424242");
        assertThat(restartMissing.exitCode()).isEqualTo(ExitCode.NOT_FOUND.code());
        assertThat(restartMissing.out()).contains("\"exit-code\" : 4");
    }
}
