package dev.cellar.backup;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cellar.repository.BackupInfo;
import dev.cellar.repository.BlockRun;
import dev.cellar.repository.BundleIndex;
import dev.cellar.repository.ManifestEntry;
import dev.cellar.storage.LocalStorage;
import dev.cellar.testing.OsProcess;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.TestConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A base backup interrupted for real (kill -9 of the process; a repository that fills up), then
 * run again with {@code cellar backup}: the same backup restarts and nothing the failed attempt
 * stored is stored again.
 */
class BaseBackupRestartIT {

    static final Path DIST = Path.of(System.getProperty("cellar.dist", "target/cellar"));

    @TempDir
    Path dir;

    private OsProcess.Result cellar(Path config, String... args) {
        List<String> cmd = new ArrayList<>(List.of(DIST.resolve("bin/cellar").toString(), "--config", config.toString()));
        cmd.addAll(List.of(args));
        return OsProcess.run(cmd, dir, 600);
    }

    private static List<Path> published(Path repo) throws Exception {
        Path backups = repo.resolve("main/backups");
        if (!Files.isDirectory(backups)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(backups)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".idx")).toList();
        }
    }

    /** {@code cellar backup} restarts the server's failed or stopped backup, and it holds the cluster's files. */
    private void restartCompletesAndReproducesTheCluster(Path config, Path repo, PostgresCluster pg) throws Exception {
        OsProcess.Result again = cellar(config, "backup", "main");
        assertThat(again.exitCode()).as(again.output()).isZero();
        assertThat(again.output()).contains("Restarted the failed backup").contains("status:   COMPLETED");
        LocalStorage storage = new LocalStorage(repo);
        BackupInfo info = new dev.cellar.repository.BackupCatalog(storage, "main").latest().orElseThrow();
        assertThat(BackupVerification.differingFiles(storage, info, pg.dataDir())).isSubsetOf("global/pg_control");
    }

    @Test
    void aBackupKilledMidCopyIsRestartedAndReusesEveryFrameItPublished() throws Exception {
        // No autovacuum: nothing but the backup touches the data, so every published block stays reusable.
        try (PostgresCluster pg = PostgresCluster.start(PostgresCluster.Spec.defaults().setting("autovacuum", "off"))) {
            // Random content compresses about 2:1, so bundles (32 MiB stored) publish early in the copy.
            pg.execute("CREATE TABLE big (id int, filler text)",
                    "INSERT INTO big SELECT g, md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) "
                            + "FROM generate_series(1, 1500000) g", "CHECKPOINT");
            Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
            Path config = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
            Path repo = dir.resolve("repo");

            Process first = new ProcessBuilder(DIST.resolve("bin/cellar").toString(), "--config", config.toString(), "backup", "main")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("first.log").toFile()).start();
            Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20))
                    .until(() -> !published(repo).isEmpty() || !first.isAlive());
            first.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, no cleanup
            assertThat(published(repo)).as(Files.readString(dir.resolve("first.log"))).isNotEmpty();
            Path backupDir = published(repo).get(0).getParent().getParent();
            String backupId = backupDir.getFileName().toString();
            assertThat(backupDir.resolve("backup.json")).doesNotExist();
            LocalStorage storage = new LocalStorage(repo);
            BundleIndex killed = BundleIndex.read(storage, "main", "backups/" + backupId + "/bundles");
            List<String> killedBundles = published(repo).stream().map(p -> p.getFileName().toString().replace(".idx", "")).toList();

            OsProcess.Result list = cellar(config, "list-backups", "main");
            assertThat(list.output()).contains("Server main has no backups.");

            OsProcess.Result second = cellar(config, "backup", "main");
            assertThat(second.exitCode()).as(second.output()).isZero();
            assertThat(second.output()).contains("Restarted the failed backup " + backupId).contains("status:   COMPLETED");

            BackupInfo info = BackupInfo.read(storage, "main", backupId).orElseThrow();
            long referencedFromKilled = 0;
            for (ManifestEntry e : info.manifest(storage).entries()) {
                for (BlockRun run : e.runs()) {
                    for (int b = run.firstBlock(); b < run.endBlock(); b++) {
                        int length = (int) Math.min(e.blockSize(), e.size() - (long) b * e.blockSize());
                        if (killed.find(e.path(), b, e.blockChecksums()[b], length).isPresent()) {
                            // Stored by the killed attempt: the restart must reference it, not store it again.
                            String bundle = run.frame().bundle().substring(run.frame().bundle().lastIndexOf('/') + 1);
                            assertThat(killedBundles).as(e.path() + " block " + b).contains(bundle);
                            referencedFromKilled += length;
                        }
                    }
                }
            }
            // Everything the killed attempt published is referenced (but pages a checkpoint rewrote since).
            assertThat(referencedFromKilled).isGreaterThan(killed.rawBytes() * 99 / 100).isGreaterThan(20L << 20);

            JsonNode executions = new ObjectMapper().readTree(cellar(config, "--json", "jobs", "list", "--job", "base-backup").output()
                    .lines().filter(l -> !l.startsWith("20")).reduce("", (a, b) -> a + b + "\n"));
            assertThat(executions).hasSize(2);
            assertThat(executions.get(0).get("status").asText()).isEqualTo("COMPLETED");
            assertThat(executions.get(1).get("status").asText()).isEqualTo("FAILED");
            JsonNode copyStep = new ObjectMapper().readTree(cellar(config, "--json", "jobs", "show", executions.get(0).get("id").asText()).output()
                    .lines().filter(l -> !l.startsWith("20")).reduce("", (a, b) -> a + b + "\n")).get("steps").get(2);
            assertThat(copyStep.get("name").asText()).isEqualTo("base-backup.copy-files");
            assertThat(copyStep.get("checkpoint").get("base-backup.copy-files.bytes-reused-from-failed-attempt").asLong())
                    .isEqualTo(referencedFromKilled);

            assertThat(BackupVerification.differingFiles(storage, info, pg.dataDir())).isSubsetOf("global/pg_control");
        }
    }

    @Test
    void aStopRequestOrCtrlCEndsTheCopyWithinSecondsStoppedAndTheNextBackupRestartsIt() throws Exception {
        // No autovacuum: the backup is compared with the cluster's files at the end.
        try (PostgresCluster pg = PostgresCluster.start(PostgresCluster.Spec.defaults().setting("autovacuum", "off"))) {
            // A new cluster stores about 3 MB, which writes limited to 150 KB/s take some 20 s to store.
            Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
            Path config = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
            Path repo = dir.resolve("repo");
            Path log = dir.resolve("slow.log");
            Process slow = new ProcessBuilder(DIST.resolve("bin/cellar").toString(), "--config", config.toString(), "backup", "main",
                    "--bwlimit", "150K").redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                // The copy is under way once it reports its first progress.
                Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                        .until(() -> Files.readString(log).contains(": copy-files ") || !slow.isAlive());
                assertThat(slow.isAlive()).as(Files.readString(log)).isTrue();
                long execution = dev.cellar.testing.CatalogRows.h2(dir.resolve("home")).executions("base-backup").get(0).id();
                long asked = System.nanoTime();
                OsProcess.Result stop = cellar(config, "jobs", "stop", Long.toString(execution));
                assertThat(stop.exitCode()).as(stop.output()).isZero();
                // The job stops at the copy's next progress report (about a second), not at the copy's end.
                assertThat(slow.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as(Files.readString(log)).isTrue();
                long seconds = (System.nanoTime() - asked) / 1_000_000_000L;
                String output = Files.readString(log);
                assertThat(output).contains("status:   STOPPED").contains("copy-files: the execution was asked to stop");
                assertThat(slow.exitValue()).as(output).isEqualTo(1);
                assertThat(seconds).as(output).isLessThan(10);
            } finally {
                slow.destroyForcibly().waitFor();
            }
            dev.cellar.testing.CatalogRows.Execution stopped = dev.cellar.testing.CatalogRows.h2(dir.resolve("home")).executions("base-backup").get(0);
            assertThat(stopped.status()).isEqualTo("STOPPED");
            // Stopped cleanly: the lock is released, no temporary file is left, and nothing of the backup is visible.
            assertThat(repo.resolve("main/locks/backup.json")).doesNotExist();
            try (Stream<Path> files = Files.walk(repo)) {
                assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".tmp-"));
            }
            assertThat(cellar(config, "list-backups", "main").output()).contains("Server main has no backups.");

            // Restarted (still limited to 150 KB/s: a restart keeps its parameters), then Ctrl-C (SIGINT) on the command
            // itself: it stops its job the same way and prints the STOPPED execution.
            Path log2 = dir.resolve("interrupted.log");
            Process interrupted = new ProcessBuilder(DIST.resolve("bin/cellar").toString(), "--config", config.toString(), "backup", "main")
                    .redirectErrorStream(true).redirectOutput(log2.toFile()).start();
            try {
                Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                        .until(() -> Files.readString(log2).contains(": copy-files ") || !interrupted.isAlive());
                assertThat(interrupted.isAlive()).as(Files.readString(log2)).isTrue();
                OsProcess.run(List.of("kill", "-INT", Long.toString(interrupted.pid())), dir, 10);
                assertThat(interrupted.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as(Files.readString(log2)).isTrue();
                String output = Files.readString(log2);
                assertThat(output).contains("cellar: stopping execution ").contains("status:   STOPPED");
                assertThat(interrupted.exitValue()).as(output).isEqualTo(1);
            } finally {
                interrupted.destroyForcibly().waitFor();
            }
            List<dev.cellar.testing.CatalogRows.Execution> runs = dev.cellar.testing.CatalogRows.h2(dir.resolve("home")).executions("base-backup");
            assertThat(runs).hasSize(2).allSatisfy(e -> assertThat(e.status()).isEqualTo("STOPPED"));
            assertThat(repo.resolve("main/locks/backup.json")).doesNotExist();

            restartCompletesAndReproducesTheCluster(config, repo, pg);
        }
    }

    @Test
    void aBackupWaitingForItsWalStopsOnRequestAndCompletesOnceArchivingWorks() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            // Archiving broken (the spool not writable by the server's OS user): the segment of the backup's end never
            // reaches the spool, so --wait waits (5 minutes at most).
            java.util.Set<java.nio.file.attribute.PosixFilePermission> spoolMode = Files.getPosixFilePermissions(pg.spool());
            Files.setPosixFilePermissions(pg.spool(), java.util.Set.of());
            Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
            Path config = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
            Path log = dir.resolve("waiting.log");
            Process waiting = new ProcessBuilder(DIST.resolve("bin/cellar").toString(), "--config", config.toString(), "backup", "main", "--wait")
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
                        .until(() -> Files.readString(log).contains("backup session stopped at") || !waiting.isAlive());
                Thread.sleep(500); // in wait-wal
                assertThat(waiting.isAlive()).as(Files.readString(log)).isTrue();
                long execution = dev.cellar.testing.CatalogRows.h2(dir.resolve("home")).executions("base-backup").get(0).id();
                OsProcess.Result stop = cellar(config, "jobs", "stop", Long.toString(execution));
                assertThat(stop.exitCode()).as(stop.output()).isZero();
                assertThat(waiting.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as(Files.readString(log)).isTrue();
                assertThat(Files.readString(log)).contains("wait-wal: the execution was asked to stop").contains("status:   STOPPED");
            } finally {
                waiting.destroyForcibly().waitFor();
            }
            assertThat(dir.resolve("repo/main/locks/backup.json")).doesNotExist();

            // Archiving repaired: the restart only waits for the segment and commits.
            Files.setPosixFilePermissions(pg.spool(), spoolMode);
            pg.execute("SELECT pg_switch_wal()");
            restartCompletesAndReproducesTheCluster(config, dir.resolve("repo"), pg);
        }
    }

    @Test
    void aFullRepositoryFailsTheBackupCleanlyAndItCompletesOnceThereIsSpace() throws Exception {
        Path repo = java.nio.file.Files.createDirectories(dir.resolve("repo"));
        OsProcess.Result mount = OsProcess.run(List.of("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", repo.toString()), null, 30);
        Assumptions.assumeTrue(mount.exitCode() == 0, "needs root to mount a small tmpfs: " + mount.output());
        try (PostgresCluster pg = PostgresCluster.start()) {
            pg.execute("CREATE TABLE t AS SELECT g AS id, md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) AS filler "
                    + "FROM generate_series(1, 200000) g", "CHECKPOINT");
            Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
            Path config = TestConfig.write(dir, pg, "postgres", passfile, repo.toUri().toString());

            OsProcess.Result full = cellar(config, "backup", "main");
            assertThat(full.exitCode()).as(full.output()).isEqualTo(1);
            assertThat(full.output()).contains("status:   FAILED").contains("No space left on device");
            assertThat(cellar(config, "list-backups", "main").output()).contains("Server main has no backups.");
            assertThat(repo.resolve("main/locks/backup.json")).doesNotExist();

            OsProcess.Result grow = OsProcess.run(List.of("mount", "-o", "remount,size=256m", repo.toString()), null, 30);
            assertThat(grow.exitCode()).as(grow.output()).isZero();
            restartCompletesAndReproducesTheCluster(config, repo, pg);
        } finally {
            OsProcess.run(List.of("umount", repo.toString()), null, 30);
        }
    }
}
