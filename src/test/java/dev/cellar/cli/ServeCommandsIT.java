package dev.cellar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cellar.testing.CatalogRows;
import dev.cellar.testing.CliRun;
import dev.cellar.testing.OsProcess;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.PostgresClusterExtension;
import dev.cellar.testing.ServeProcess;
import dev.cellar.testing.TestConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cellar backup} handed to a running {@code cellar serve} over {@code <cellar.home>/serve.sock}
 * ({@code cellar.serve.accept-commands}, design 2.2), with the built distribution in separate processes: the backup runs
 * in serve's JVM and the command prints what it would print itself; {@code --local}, another environment and a socket
 * nobody listens on run it in the command's own process; Ctrl-C stops the job in serve.
 */
@ExtendWith(PostgresClusterExtension.class)
class ServeCommandsIT {

    static final Path DIST = Path.of(System.getProperty("cellar.dist", "target/cellar"));
    private static final Pattern EXECUTION = Pattern.compile("Execution (\\d+) of (?:base-backup|wal-sweep)");

    @TempDir
    Path dir;

    private Path config(PostgresCluster pg) throws Exception {
        Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
        Path config = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
        String schedules = """
                schedules:
                  base-backup: "off"
                  wal-sweep: "off"
                  verify-restore: "off"
                  retention-prune: "off"
                """;
        Files.writeString(config, Files.readString(config) + schedules.indent(6) + "  serve:\n    accept-commands: true\n");
        return config;
    }

    private OsProcess.Result cellar(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>(List.of("env"));
        env.forEach((k, v) -> cmd.add(k + "=" + v));
        cmd.add(DIST.resolve("bin/cellar").toString());
        cmd.addAll(List.of(args));
        return OsProcess.run(cmd, dir, 300);
    }

    private static long executionOf(String output) {
        Matcher m = EXECUTION.matcher(output);
        assertThat(m.find()).as(output).isTrue();
        return Long.parseLong(m.group(1));
    }

    /** The pid of the process that ran an execution ({@code cellar.owner.pid} in its context). */
    private String ownerOf(Path config, long execution) throws Exception {
        CliRun show = CliRun.withConfig(dir, config, "--json", "jobs", "show", Long.toString(execution));
        assertThat(show.exitCode()).as(show.toString()).isZero();
        JsonNode context = new ObjectMapper().readTree(show.out()).get("context");
        return context.get("cellar.owner.pid").asText();
    }

    @Test
    void aBackupRunsInServeAndPrintsWhatItWouldPrintAndOtherwiseRunsItself(PostgresCluster pg) throws Exception {
        Path config = config(pg);
        Path socket = dir.resolve("home/serve.sock");
        try (ServeProcess serve = ServeProcess.start(config, dir.resolve("serve.log"))) {
            serve.await(Duration.ofSeconds(30), () -> serve.log().contains("Runs 'cellar backup' and 'cellar archive-wal' commands sent on " + socket));
            assertThat(Files.getPosixFilePermissions(socket)).containsExactlyInAnyOrder(
                    java.nio.file.attribute.PosixFilePermission.OWNER_READ, java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);

            OsProcess.Result delegated = cellar(Map.of(), "--config", config.toString(), "backup", "main", "--full");
            assertThat(delegated.exitCode()).as(delegated.output()).isZero();
            // What the command prints: its job's log lines, the execution and the backup, as from its own process.
            assertThat(delegated.output()).contains("full backup").contains(": DONE, ").contains("status:   COMPLETED")
                    .contains("Type:                    full").contains("Status:                  DONE");
            long first = executionOf(delegated.output());
            assertThat(ownerOf(config, first)).as("the job ran in serve").isEqualTo(Long.toString(serve.pid()));
            assertThat(serve.log()).contains("Running 'cellar --config " + config + " backup main --full' for ");

            // --json: standard output is the result alone, whatever the log lines on standard error.
            List<String> json = List.of("env", DIST.resolve("bin/cellar").toString(), "--config", config.toString(), "--json", "backup", "main");
            Path out = dir.resolve("out.json");
            Process p = new ProcessBuilder(json).redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).isZero();
            JsonNode result = new ObjectMapper().readTree(Files.readString(out, StandardCharsets.UTF_8));
            assertThat(result.get("backup").get("type").asText()).isEqualTo("incremental");
            assertThat(ownerOf(config, result.get("execution").get("execution").get("id").asLong())).isEqualTo(Long.toString(serve.pid()));

            // The configuration named by $CELLAR_CONFIG instead of --config: the same file, so serve runs it.
            OsProcess.Result byVariable = cellar(Map.of("CELLAR_CONFIG", config.toString()), "backup", "main");
            assertThat(byVariable.exitCode()).as(byVariable.output()).isZero();
            assertThat(ownerOf(config, executionOf(byVariable.output()))).isEqualTo(Long.toString(serve.pid()));

            // A sweep of the spool runs there too (its WAL summarizer compiled, as for serve's own sweeps); --local runs it here.
            pg.execute("SELECT pg_switch_wal()");
            OsProcess.Result sweep = cellar(Map.of(), "--config", config.toString(), "archive-wal", "main");
            assertThat(sweep.exitCode()).as(sweep.output()).isZero();
            assertThat(sweep.output()).contains("wal-sweep").contains("status:   COMPLETED");
            assertThat(ownerOf(config, executionOf(sweep.output()))).isEqualTo(Long.toString(serve.pid()));
            OsProcess.Result localSweep = cellar(Map.of(), "--config", config.toString(), "archive-wal", "main", "--local");
            assertThat(localSweep.exitCode()).as(localSweep.output()).isZero();
            assertThat(ownerOf(config, executionOf(localSweep.output()))).isNotEqualTo(Long.toString(serve.pid()));

            // --local runs it here.
            OsProcess.Result local = cellar(Map.of(), "--config", config.toString(), "backup", "main", "--local");
            assertThat(local.exitCode()).as(local.output()).isZero();
            assertThat(ownerOf(config, executionOf(local.output()))).isNotEqualTo(Long.toString(serve.pid()));

            // Another environment (here Cellar's log level) would change what the command does: serve refuses, it runs here.
            OsProcess.Result other = cellar(Map.of("CELLAR_LOG_LEVEL", "DEBUG"), "--config", config.toString(), "backup", "main");
            assertThat(other.exitCode()).as(other.output()).isZero();
            assertThat(other.output()).contains("does not run this command (another environment");
            assertThat(ownerOf(config, executionOf(other.output()))).isNotEqualTo(Long.toString(serve.pid()));

            // serve is killed: its socket file stays, nobody listens, the command runs itself.
            serve.kill9();
            assertThat(socket).exists();
            OsProcess.Result stale = cellar(Map.of(), "--config", config.toString(), "backup", "main");
            assertThat(stale.exitCode()).as(stale.output()).isZero();
            assertThat(stale.output()).contains("Status:                  DONE");
        }
    }

    @Test
    void ctrlCStopsTheJobInServeAndPrintsItsOutcome(PostgresCluster pg) throws Exception {
        Path config = config(pg);
        CatalogRows catalog = CatalogRows.h2(dir.resolve("home"));
        try (ServeProcess serve = ServeProcess.start(config, dir.resolve("serve.log"))) {
            serve.await(Duration.ofSeconds(30), () -> serve.log().contains("Runs 'cellar backup' and 'cellar archive-wal' commands sent on"));
            Path out = dir.resolve("client.log");
            // A slow backup (repository writes limited to 100 KB/s), interrupted while it copies.
            Process client = new ProcessBuilder(DIST.resolve("bin/cellar").toString(), "--config", config.toString(),
                    "backup", "main", "--full", "--bwlimit", "100K").redirectErrorStream(true).redirectOutput(out.toFile()).start();
            Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .until(() -> catalog.executions("base-backup").stream().anyMatch(e -> e.status().equals("STARTED")));
            Thread.sleep(1000);
            OsProcess.run(List.of("kill", "-INT", Long.toString(client.pid())), dir, 10);
            // The command ends as soon as the job stops (at the copy's next progress report, about a second), or says it
            // will after the 5 s it waits; either way the job ends STOPPED, restartable.
            assertThat(client.waitFor(30, TimeUnit.SECONDS)).as(Files.readString(out)).isTrue();
            String printed = Files.readString(out);
            assertThat(printed).containsAnyOf("status:   STOPPED", "to stop the job; it stops at its next checkpoint (see 'cellar jobs list')");
            serve.await(Duration.ofSeconds(180), () -> serve.log().contains("backup main --full --bwlimit 100K' of pid " + client.pid() + " ended: exit code"));
            List<CatalogRows.Execution> runs = catalog.executions("base-backup");
            assertThat(runs).as(serve.log()).singleElement().satisfies(e -> assertThat(e.status()).isEqualTo("STOPPED"));
            assertThat(serve.isAlive()).isTrue();
            assertThat(serve.log()).contains("is gone: stopping execution " + runs.get(0).id());
            // STOPPED is restartable: the next backup restarts it (here in serve again).
            OsProcess.Result again = cellar(Map.of(), "--config", config.toString(), "backup", "main");
            assertThat(again.exitCode()).as(again.output()).isZero();
            assertThat(again.output()).contains("Restarted the failed backup");
        }
    }
}
