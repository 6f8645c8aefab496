package dev.cellar.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.testing.CatalogRows;
import dev.cellar.testing.CliRun;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.PostgresClusterExtension;
import dev.cellar.testing.ServeProcess;
import dev.cellar.testing.TestConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two {@code cellar serve} nodes (separate processes) sharing one PostgreSQL catalog: Quartz runs
 * clustered, each firing runs on one node only, and when the node running a job is killed the
 * other recovers the firing and completes the job from its checkpoint.
 */
@ExtendWith(PostgresClusterExtension.class)
class ClusteredServeIT {

    @TempDir
    Path dir;

    private Path config(PostgresCluster pg, String catalog, String schedules, String serverExtra) throws Exception {
        pg.execute("CREATE ROLE " + catalog + " LOGIN PASSWORD 'catalog-pw'", "CREATE DATABASE " + catalog + " OWNER " + catalog);
        Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password(), catalog, "catalog-pw"));
        Path config = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
        String yaml = Files.readString(config).replace("cellar:\n", """
                cellar:
                  catalog:
                    url: jdbc:postgresql://127.0.0.1:%d/%s
                    user: %s
                    passfile: %s
                """.formatted(pg.port(), catalog, catalog, passfile));
        Files.writeString(config, yaml + serverExtra.indent(6) + "      schedules:\n" + schedules.indent(8)
                + "  serve:\n    misfire-threshold: 5 SECONDS\n    cluster-checkin-interval: 2 SECONDS\n");
        return config;
    }

    @Test
    void twoNodesShareTheSchedulesAndEachFiringRunsOnce(PostgresCluster pg) throws Exception {
        Path config = config(pg, "catalog_once", """
                base-backup: "off"
                wal-sweep: "* * * * * ?"
                verify-restore: "off"
                """, "");
        assertThat(CliRun.run(dir, "--config", config.toString(), "archive-wal", "main").exitCode()).isZero();
        List<ServeProcess.Firing> all;
        try (ServeProcess a = ServeProcess.start(config, dir.resolve("a.log"));
             ServeProcess b = ServeProcess.start(config, dir.resolve("b.log"))) {
            a.await(Duration.ofSeconds(120), () -> sweeps(a).size() + sweeps(b).size() >= 22);
            assertThat(a.sigterm()).isZero();
            assertThat(b.sigterm()).isZero();
            all = new java.util.ArrayList<>(sweeps(a));
            all.addAll(sweeps(b));
            String logs = "--- a\n" + a.log() + "--- b\n" + b.log();
            Map<String, Long> perFireTime = all.stream().collect(Collectors.groupingBy(ServeProcess.Firing::scheduled, Collectors.counting()));
            assertThat(perFireTime.values()).as("every scheduled time fired on exactly one node\n" + logs).allMatch(n -> n == 1);
            assertThat(all.stream().filter(f -> f.status().equals("COMPLETED")).count()).as(logs).isGreaterThanOrEqualTo(20);
            // (a firing that was waiting for its turn when SIGTERM came is skipped, not run)
            assertThat(all).as(logs).allSatisfy(f -> assertThat(f.status()).isIn("COMPLETED", "SKIPPED"));
        }
        CatalogRows catalog = new CatalogRows("jdbc:postgresql://127.0.0.1:" + pg.port() + "/catalog_once", "catalog_once", "catalog-pw");
        List<CatalogRows.Execution> executions = catalog.executions("wal-sweep");
        Map<String, Long> perRun = executions.stream().collect(Collectors.groupingBy(e -> e.parameters().get("run"), Collectors.counting()));
        assertThat(perRun.values()).as("one execution per run").allMatch(n -> n == 1);
        assertThat(executions.stream().map(CatalogRows.Execution::id).collect(Collectors.toSet()))
                .containsAll(all.stream().map(ServeProcess.Firing::execution).toList());
    }

    /**
     * The nodes pretend to run on two hosts ({@code -Dcellar.host}), so the survivor cannot judge the
     * dead node's pid: it goes by the cluster's check-ins, for the execution and for the lock.
     */
    @Test
    void whenTheNodeRunningABackupIsKilledTheOtherNodeOnAnotherHostCompletesIt(PostgresCluster pg) throws Exception {
        // One firing, far enough ahead for both nodes to be up; the backup takes several seconds (bwlimit).
        LocalDateTime at = LocalDateTime.now().plusSeconds(25).withNano(0);
        Path config = config(pg, "catalog_failover", """
                base-backup: "%s"
                wal-sweep: "off"
                verify-restore: "off"
                """.formatted(DateTimeFormatter.ofPattern("s m H d M '?' yyyy").format(at)), "bwlimit: 160K\n");
        assertThat(CliRun.run(dir, "--config", config.toString(), "archive-wal", "main").exitCode()).isZero();
        String backupId;
        try (ServeProcess a = ServeProcess.start(config, dir.resolve("a.log"), Map.of("CELLAR_JAVA_OPTS", "-Dcellar.host=node-a"));
             ServeProcess b = ServeProcess.start(config, dir.resolve("b.log"), Map.of("CELLAR_JAVA_OPTS", "-Dcellar.host=node-b"))) {
            a.await(Duration.ofSeconds(90), () -> a.log().contains("copy-files") || b.log().contains("copy-files"));
            ServeProcess running = a.log().contains("copy-files") ? a : b;
            ServeProcess other = running == a ? b : a;
            running.kill9();

            other.await(Duration.ofSeconds(120), () -> other.firings().stream().anyMatch(f -> f.job().equals("base-backup")));
            ServeProcess.Firing recovered = other.firings().stream().filter(f -> f.job().equals("base-backup")).findFirst().orElseThrow();
            String logs = "--- killed\n" + running.log() + "--- survivor\n" + other.log();
            assertThat(recovered.note()).as(logs).contains("recovered from a dead node");
            assertThat(recovered.status()).as(logs).isEqualTo("COMPLETED");
            assertThat(other.sigterm()).isZero();

            CatalogRows catalog = new CatalogRows("jdbc:postgresql://127.0.0.1:" + pg.port() + "/catalog_failover", "catalog_failover", "catalog-pw");
            List<CatalogRows.Execution> backups = catalog.executions("base-backup");
            assertThat(backups).extracting(CatalogRows.Execution::status).as(logs).containsExactly("FAILED", "COMPLETED");
            assertThat(backups.get(1).instance()).as("the same backup, restarted from its checkpoints").isEqualTo(backups.get(0).instance());
            assertThat(other.log()).contains("was left STARTED by scheduler node node-" + (running == a ? "a" : "b"))
                    .contains("which stopped checking in");
            backupId = backups.get(1).parameters().get("backup-id");
        }
        CliRun list = CliRun.run(dir, "--config", config.toString(), "list-backups", "main");
        assertThat(list.exitCode()).as(list.toString()).isZero();
        assertThat(list.out()).contains(backupId).contains("DONE");
    }

    private static List<ServeProcess.Firing> sweeps(ServeProcess p) throws Exception {
        return p.firings().stream().filter(f -> f.job().equals("wal-sweep") && f.note().isEmpty()).toList();
    }

}
