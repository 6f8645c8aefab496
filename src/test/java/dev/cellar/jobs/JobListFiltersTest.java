package dev.cellar.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cellar.api.Cellar;
import dev.cellar.config.SettingsLoader;
import dev.cellar.jobs.testjob.CountingJobConfig;
import dev.cellar.postgres.PostgresConnector;
import dev.cellar.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.job.parameters.JobParametersBuilder;

/** {@code cellar jobs list --server --job --status --since --limit}, each filter on a real job history. */
class JobListFiltersTest {

    @TempDir
    Path dir;

    @AfterEach
    void disarm() {
        CountingJobConfig.FAIL_AT = 0;
    }

    @Test
    void everyFilterSelectsWhatItSays() throws Exception {
        Path config = Files.writeString(dir.resolve("cellar.yaml"), "cellar:\n  home: " + dir.resolve("home") + "\n");
        long aFailed;
        long aCompleted;
        long bCompleted;
        long old;
        try (Cellar cellar = new Cellar(new SettingsLoader(Map.of(), dir).load(config), new PostgresConnector(Map.of(), dir))) {
            aFailed = run(cellar, "a", "1", 40);
            aCompleted = run(cellar, "a", "2", 0);
            bCompleted = run(cellar, "b", "3", 0);
            old = run(cellar, "b", "4", 0);
            // An execution created ten days ago.
            try (var c = cellar.jobs().bean(DataSource.class).getConnection();
                 var p = c.prepareStatement("UPDATE BATCH_JOB_EXECUTION SET CREATE_TIME = ?, START_TIME = ?, END_TIME = ? WHERE JOB_EXECUTION_ID = ?")) {
                java.sql.Timestamp t = java.sql.Timestamp.valueOf(java.time.LocalDateTime.now().minusDays(10));
                p.setTimestamp(1, t);
                p.setTimestamp(2, t);
                p.setTimestamp(3, t);
                p.setLong(4, old);
                assertThat(p.executeUpdate()).isEqualTo(1);
            }
        }
        assertThat(ids(config, "--server", "a")).containsExactly(aCompleted, aFailed);
        assertThat(ids(config, "--server", "b")).containsExactly(old, bCompleted);
        assertThat(ids(config, "--status", "failed")).containsExactly(aFailed);
        assertThat(ids(config, "--status", "COMPLETED", "--server", "b")).containsExactly(old, bCompleted);
        assertThat(ids(config, "--since", "7d")).containsExactly(bCompleted, aCompleted, aFailed);
        assertThat(ids(config, "--since", "2w")).hasSize(4);
        assertThat(ids(config, "--job", CountingJobConfig.JOB, "--limit", "2")).containsExactly(old, bCompleted);
        assertThat(ids(config, "--job", "wal-sweep")).isEmpty();
        assertThat(ids(config, "--server", "c")).isEmpty();
    }

    @Test
    void anOldFailureIsFoundBehindManyNewerRuns() throws Exception {
        // A minutely sweep makes a thousand runs a day: a failure from yesterday must still be listed.
        Path config = Files.writeString(dir.resolve("cellar.yaml"), "cellar:\n  home: " + dir.resolve("home") + "\n");
        long failed;
        try (Cellar cellar = new Cellar(new SettingsLoader(Map.of(), dir).load(config), new PostgresConnector(Map.of(), dir))) {
            failed = run(cellar, "a", "0", 40);
            for (int i = 1; i <= 12; i++) {
                run(cellar, "a", Integer.toString(i), 0);
            }
        }
        assertThat(ids(config, "--status", "FAILED", "--limit", "1")).containsExactly(failed);
        assertThat(ids(config, "--status", "FAILED", "--server", "a", "--since", "1d", "--limit", "2")).containsExactly(failed);
        assertThat(ids(config, "--limit", "3")).hasSize(3).doesNotContain(failed);
    }

    private static long run(Cellar cellar, String server, String run, int failAt) {
        CountingJobConfig.FAIL_AT = failAt;
        try {
            JobExecution e = cellar.jobs().launcher().launch(CountingJobConfig.JOB, new JobParametersBuilder()
                    .addString(JobHistory.SERVER_PARAMETER, server).addString("run", run)
                    .addString("out", cellar.settings().home().resolve("out-" + run).toString(), false).toJobParameters());
            return e.getId();
        } finally {
            CountingJobConfig.FAIL_AT = 0;
        }
    }

    private List<Long> ids(Path config, String... filter) throws Exception {
        List<String> args = new ArrayList<>(List.of("--config", config.toString(), "--json", "jobs", "list"));
        args.addAll(List.of(filter));
        CliRun r = CliRun.run(dir, args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        List<Long> out = new ArrayList<>();
        for (JsonNode n : new ObjectMapper().readTree(r.out())) {
            out.add(n.get("id").asLong());
        }
        return out;
    }
}
