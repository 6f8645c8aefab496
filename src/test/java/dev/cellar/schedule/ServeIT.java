package dev.cellar.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.testing.CatalogRows;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.PostgresClusterExtension;
import dev.cellar.testing.ServeProcess;
import dev.cellar.testing.TestConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cellar serve} as operators run it (the built distribution, its own process, H2 catalog):
 * schedules fire on time, one firing of a server's job at a time, misfires as documented, and
 * SIGTERM stops a sweep at a checkpoint, restartable.
 */
@ExtendWith(PostgresClusterExtension.class)
class ServeIT {

    @TempDir
    Path dir;

    private Path config(PostgresCluster pg, String serverExtra, String serve) throws Exception {
        Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
        Path config = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
        Files.writeString(config, Files.readString(config) + serverExtra.indent(6) + "  serve:\n" + serve.indent(4));
        return config;
    }

    private static boolean onGrid(String scheduled, int everySeconds) {
        Instant t = Instant.parse(scheduled);
        return t.getNano() == 0 && t.atZone(ZoneId.systemDefault()).getSecond() % everySeconds == 0;
    }

    @Test
    void firingsComeOnTimeAndTwoFiringsOfAServersJobNeverOverlap(PostgresCluster pg) throws Exception {
        // A verification takes more than a second (restore, start, check, stop), longer than its 1-second schedule: firings pile up.
        // The misfire threshold is generous: this test is about on-time firings and overlaps, not misfires.
        Path config = config(pg, """
                schedules:
                  base-backup: "off"
                  wal-sweep: "off"
                  verify-restore: "* * * * * ?"
                """, "misfire-threshold: 30 SECONDS\n");
        // The scratch space must be reachable by the OS user the temporary server runs as.
        Path home = PostgresCluster.newBase();
        Files.writeString(config, Files.readString(config).replace("home: " + dir.resolve("home"), "home: " + home));
        try {
            verifyFiringsComeOnTimeAndNeverOverlap(config, home);
        } finally {
            dev.cellar.testing.OsProcess.deleteTree(home);
        }
    }

    private void verifyFiringsComeOnTimeAndNeverOverlap(Path config, Path home) throws Exception {
        assertThat(dev.cellar.testing.CliRun.run(dir, "--config", config.toString(), "archive-wal", "main").exitCode()).isZero();
        dev.cellar.testing.CliRun backup = dev.cellar.testing.CliRun.run(dir, "--config", config.toString(), "backup", "main", "--wait");
        assertThat(backup.exitCode()).as(backup.toString()).isZero();
        assertThat(dev.cellar.testing.CliRun.run(dir, "--config", config.toString(), "archive-wal", "main").exitCode()).isZero();
        CatalogRows catalog = CatalogRows.h2(home);
        try (ServeProcess serve = ServeProcess.start(config, dir.resolve("serve.log"))) {
            serve.await(Duration.ofSeconds(120), () -> catalog.executions("verify-restore").stream().filter(e -> e.status().equals("COMPLETED")).count() >= 3);
            assertThat(serve.sigterm()).as(serve.log()).isIn(0, 143);

            List<CatalogRows.Execution> runs = catalog.executions("verify-restore");
            assertThat(runs).as(serve.log()).allSatisfy(e -> assertThat(e.status()).isIn("COMPLETED", "STOPPED"));
            assertThat(runs.stream().filter(e -> e.status().equals("STOPPED")).count()).as("only the one SIGTERM interrupted").isLessThanOrEqualTo(1);
            for (int i = 1; i < runs.size(); i++) {
                assertThat(runs.get(i).start()).as("a firing starts after the previous one ended\n" + serve.log())
                        .isAfterOrEqualTo(runs.get(i - 1).end());
            }
            assertThat(Duration.between(runs.get(0).start(), runs.get(0).end())).as("the firings did overlap in time").isGreaterThan(Duration.ofSeconds(1));
            // On time: the first firing is a whole second of the schedule and its execution started right then.
            ServeProcess.Firing first = serve.firings().get(0);
            assertThat(onGrid(first.scheduled(), 1)).as(first.toString()).isTrue();
            LocalDateTime scheduledLocal = LocalDateTime.ofInstant(Instant.parse(first.scheduled()), ZoneId.systemDefault());
            assertThat(Duration.between(scheduledLocal, runs.get(0).start()).abs()).as(serve.log()).isLessThan(Duration.ofSeconds(3));
            assertThat(serve.log()).doesNotContain("BUSY").doesNotContain(" ERROR ");
        }
    }

    @Test
    void missedSweepsCoalesceIntoOneAndAMissedPruneWaitsForItsNextFiring(PostgresCluster pg) throws Exception {
        Path config = config(pg, """
                retention: REDUNDANCY 5
                schedules:
                  base-backup: "off"
                  wal-sweep: "*/3 * * * * ?"
                  verify-restore: "off"
                  retention-prune: "*/3 * * * * ?"
                """, "misfire-threshold: 2 SECONDS\n");
        // The cluster is shared with the other tests: archive their WAL first, so that every sweep here is short.
        assertThat(dev.cellar.testing.CliRun.run(dir, "--config", config.toString(), "archive-wal", "main").exitCode()).isZero();
        Path log1 = dir.resolve("serve-1.log");
        try (ServeProcess serve = ServeProcess.start(config, log1)) {
            serve.await(Duration.ofSeconds(60), () ->
                    serve.firings().stream().filter(f -> f.job().equals("wal-sweep") && f.status().equals("COMPLETED")).count() >= 1
                            && serve.firings().stream().filter(f -> f.job().equals("retention-prune") && f.status().equals("COMPLETED")).count() >= 1);
            serve.sigterm();
        }
        Instant down = Instant.now();
        Thread.sleep(10_000); // three or four firings of each missed, each later than the threshold
        Instant up = Instant.now();
        Path log2 = dir.resolve("serve-2.log");
        try (ServeProcess serve = ServeProcess.start(config, log2)) {
            Thread.sleep(5_000);
            serve.sigterm();
            List<ServeProcess.Firing> after = serve.firings();
            List<ServeProcess.Firing> sweeps = after.stream().filter(f -> f.job().equals("wal-sweep") && f.note().isEmpty()).toList();
            List<ServeProcess.Firing> prunes = after.stream().filter(f -> f.job().equals("retention-prune") && f.note().isEmpty()).toList();
            // Missed sweeps: one run, as the scheduler starts (its fire time is that moment, off the 3-second grid).
            assertThat(sweeps.stream().filter(f -> !onGrid(f.scheduled(), 3)).count()).as(serve.log()).isEqualTo(1);
            // Missed prunes: none run; the next one runs on the grid.
            assertThat(prunes).as(serve.log()).allSatisfy(f -> assertThat(onGrid(f.scheduled(), 3)).isTrue());
            assertThat(prunes).as(serve.log()).isNotEmpty();
            // No firing of the downtime was delivered one by one.
            assertThat(Stream.concat(sweeps.stream(), prunes.stream()).filter(f -> onGrid(f.scheduled(), 3))
                    .map(f -> Instant.parse(f.scheduled())).filter(t -> t.isBefore(up.minusSeconds(1)) && t.isAfter(down)))
                    .as(serve.log()).isEmpty();
            // (a sweep still running at the SIGTERM ends STOPPED)
            assertThat(after).as(serve.log()).allSatisfy(f -> assertThat(f.status()).isIn("COMPLETED", "NOTHING", "STOPPED", "SKIPPED"));
        }
    }

    @Test
    void sigtermStopsASweepAtACheckpointAndTheNextStartFinishesIt(PostgresCluster pg) throws Exception {
        Path config = config(pg, """
                schedules:
                  base-backup: "off"
                  wal-sweep: "*/2 * * * * ?"
                  verify-restore: "off"
                """, "misfire-threshold: 1 SECONDS\n");
        // About 20 segments of real, poorly compressible WAL waiting in the spool (a sweep stores them in chunks of 8).
        pg.execute("CREATE TABLE sigterm_wal AS SELECT g, md5(g::text) || md5((g * 7)::text) AS a FROM generate_series(1, 2500000) g",
                "SELECT pg_switch_wal()");
        Awaitility.await().atMost(Duration.ofSeconds(120)).until(() -> spooled(pg.spool()) >= 14);
        Thread.sleep(500);
        CatalogRows catalog = CatalogRows.h2(dir.resolve("home"));
        long stoppedId;
        try (ServeProcess serve = ServeProcess.start(config, dir.resolve("serve-1.log"))) {
            // Stopped as soon as the first chunk (8 files) is being stored: the stop lands at its end, with more to go.
            Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(10))
                    .until(() -> storedSegments(dir.resolve("repo")) >= 2);
            assertThat(serve.sigterm()).isIn(0, 143);
            List<CatalogRows.Execution> sweeps = catalog.executions("wal-sweep");
            CatalogRows.Execution last = sweeps.get(sweeps.size() - 1);
            assertThat(last.status()).as(serve.log()).isEqualTo("STOPPED");
            stoppedId = last.id();
            assertThat(spooled(pg.spool())).as("the stop came mid-sweep").isGreaterThan(0);
            assertThat(serve.log()).contains("Asked execution(s) [" + stoppedId + "] to stop");
        }
        long stoppedInstance = catalog.executions("wal-sweep").stream().filter(e -> e.id() == stoppedId).findFirst().orElseThrow().instance();
        try (ServeProcess serve = ServeProcess.start(config, dir.resolve("serve-2.log"))) {
            // At start-up the stopped run is restarted (by the start-up restart, or by a missed firing run at once,
            // whichever comes first; the other then finds nothing to do) and completes from its checkpoint.
            serve.await(Duration.ofSeconds(60), () -> catalog.executions("wal-sweep").stream()
                    .anyMatch(e -> e.instance() == stoppedInstance && e.status().equals("COMPLETED")));
            serve.sigterm();
            CatalogRows.Execution restarted = catalog.executions("wal-sweep").stream()
                    .filter(e -> e.instance() == stoppedInstance && e.status().equals("COMPLETED")).findFirst().orElseThrow();
            assertThat(restarted.id()).as("a new execution of the same run").isNotEqualTo(stoppedId);
            assertThat(serve.firings().stream().filter(f -> restarted.id() == (f.execution() == null ? -1 : f.execution())).findFirst())
                    .as(serve.log()).hasValueSatisfying(f -> assertThat(f.status()).isEqualTo("COMPLETED"));
        }
        assertThat(spooled(pg.spool())).as("everything spooled before the stop is archived").isLessThan(3);
    }

    @Test
    void aBackupLeftRunningByAKilledServeIsRestartedByItsNextFiringAndASecondServeOnTheCatalogIsRefused(PostgresCluster pg) throws Exception {
        // A backup every 15 seconds that takes several (bwlimit): kill -9 serve in the middle of one.
        Path config = config(pg, """
                bwlimit: 160K
                schedules:
                  base-backup: "0/15 * * * * ?"
                  wal-sweep: "off"
                  verify-restore: "off"
                """, "misfire-threshold: 1 SECONDS\n");
        assertThat(dev.cellar.testing.CliRun.run(dir, "--config", config.toString(), "archive-wal", "main").exitCode()).isZero();
        CatalogRows catalog = CatalogRows.h2(dir.resolve("home"));
        try (ServeProcess serve = ServeProcess.start(config, dir.resolve("serve-1.log"))) {
            dev.cellar.testing.CliRun second = dev.cellar.testing.CliRun.run(dir, "--config", config.toString(), "serve", "--no-web");
            assertThat(second.exitCode()).as(second.toString()).isEqualTo(5);
            assertThat(second.err()).contains("another cellar serve (pid " + serve.pid());
            serve.await(Duration.ofSeconds(60), () -> serve.log().contains("copy-files"));
            serve.kill9();
        }
        try (ServeProcess serve = ServeProcess.start(config, dir.resolve("serve-2.log"))) {
            assertThat(serve.log()).contains("was left STARTED by a process that no longer runs; marking it FAILED");
            serve.await(Duration.ofSeconds(90), () -> serve.firings().stream().anyMatch(f -> f.job().equals("base-backup")));
            ServeProcess.Firing next = serve.firings().stream().filter(f -> f.job().equals("base-backup")).findFirst().orElseThrow();
            assertThat(next.status()).as(serve.log()).isEqualTo("COMPLETED");
            serve.sigterm();
            List<CatalogRows.Execution> backups = catalog.executions("base-backup");
            assertThat(backups).extracting(CatalogRows.Execution::status).as(serve.log()).startsWith("FAILED", "COMPLETED");
            assertThat(backups.get(1).instance()).as("the same backup, restarted").isEqualTo(backups.get(0).instance());
        }
    }

    private static long spooled(Path spool) throws Exception {
        try (Stream<Path> s = Files.list(spool)) {
            return s.filter(p -> p.getFileName().toString().matches("[0-9A-F]{24}")).count();
        }
    }

    private static long storedSegments(Path repo) throws Exception {
        Path wal = repo.resolve("main/wal");
        if (!Files.exists(wal)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(wal)) {
            return s.filter(p -> p.getFileName().toString().matches("[0-9A-F]{24}\\..*")).count();
        }
    }
}
