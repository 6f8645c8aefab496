package dev.cellar.restore;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cellar.testing.CliRun;
import dev.cellar.testing.OsProcess;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.TestConfig;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restore interrupted for real (kill -9 of the process mid-copy) and restarted; a delta restore
 * repairing a damaged directory; a corrupted bundle failing the restore, naming the file, with
 * nothing claiming success; a restore held to {@code --bwlimit} stopped by Ctrl-C mid-copy and finished
 * by the same command.
 */
class RestoreRestartIT {

    static final Path DIST = Path.of(System.getProperty("cellar.dist", "target/cellar"));

    @TempDir
    Path dir;

    private Path config;
    private final List<Path> bases = new ArrayList<>();

    @AfterEach
    void removeRestoredDirectories() {
        bases.forEach(OsProcess::deleteTree);
    }

    private CliRun cellar(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--config";
        all[1] = config.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        return CliRun.run(dir, all);
    }

    private Path newDestination() {
        Path base = PostgresCluster.newBase();
        bases.add(base);
        return base.resolve("data");
    }

    private static Optional<Path> temporaryFile(Path dest) {
        if (!Files.isDirectory(dest)) {
            return Optional.empty();
        }
        try (Stream<Path> s = Files.walk(dest)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".cellar-tmp")).findFirst();
        } catch (Exception e) {
            return Optional.empty(); // files come and go while we look
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (Exception e) {
            return -1;
        }
    }

    private static void verifyBackup(PostgresCluster pg, Path dest) {
        OsProcess.Result r = OsProcess.run(List.of(pg.binaries().tool("pg_verifybackup").toString(), "-n", dest.toString()), null, 120);
        assertThat(r.exitCode()).as(r.output()).isZero();
    }

    private static long count(PostgresCluster pg) throws Exception {
        try (Connection c = pg.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*), sum(id) FROM big")) {
            rs.next();
            return rs.getLong(1) * 31 + rs.getLong(2);
        }
    }

    /** The configuration for {@code pg}, a full backup (its WAL archived) and a sweep. */
    private void backUpAndSweep(PostgresCluster pg) throws Exception {
        Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
        config = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
        CliRun backup = cellar("backup", "main", "--wait");
        assertThat(backup.exitCode()).as(backup.toString()).isZero();
        CliRun sweep = cellar("archive-wal", "main");
        assertThat(sweep.exitCode()).as(sweep.toString()).isZero();
    }

    private static boolean hasRestoredFile(Path dest) {
        if (!Files.isDirectory(dest.resolve("base"))) {
            return false;
        }
        try (Stream<Path> s = Files.walk(dest.resolve("base"))) {
            return s.anyMatch(p -> Files.isRegularFile(p) && !p.getFileName().toString().endsWith(".cellar-tmp"));
        } catch (Exception e) {
            return false; // files come and go while we look
        }
    }

    @Test
    void aRestoreHeldToItsBandwidthStopsOnCtrlCAndTheSameCommandFinishesIt() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start(PostgresCluster.Spec.defaults().setting("autovacuum", "off"))) {
            pg.execute("CREATE TABLE big (id int, filler text)",
                    "INSERT INTO big SELECT g, md5(random()::text) || md5(random()::text) FROM generate_series(1, 150000) g", "CHECKPOINT");
            long expected = count(pg);
            backUpAndSweep(pg);

            // About 10 MB stored, read at 1 MiB/s: the restore takes several seconds.
            Path dest = newDestination();
            List<String> command = List.of(DIST.resolve("bin/cellar").toString(), "--config", config.toString(),
                    "recover", "main", "latest", dest.toString(), "--target-immediate", "--target-action", "promote", "--bwlimit", "1M");
            Path log = dir.resolve("throttled.log");
            Process slow = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                // Ctrl-C once restore-files reported progress and some file is restored under its final name.
                Awaitility.await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(50))
                        .until(() -> !slow.isAlive() || Files.readString(log).contains(": restore-files ") && hasRestoredFile(dest));
                assertThat(slow.isAlive()).as(Files.readString(log)).isTrue();
                long asked = System.nanoTime();
                OsProcess.run(List.of("kill", "-INT", Long.toString(slow.pid())), dir, 10);
                assertThat(slow.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as(Files.readString(log)).isTrue();
                long seconds = (System.nanoTime() - asked) / 1_000_000_000L;
                String output = Files.readString(log);
                assertThat(output).contains("cellar: stopping execution ").contains("restore-files: the execution was asked to stop")
                        .contains("status:   STOPPED");
                assertThat(slow.exitValue()).as(output).isEqualTo(1);
                assertThat(seconds).as(output).isLessThan(10);
            } finally {
                slow.destroyForcibly().waitFor();
            }
            // Nothing claims success, and the run is STOPPED (restartable), not FAILED.
            assertThat(dest.resolve("recovery.signal")).doesNotExist();
            assertThat(dest.resolve("backup_manifest")).doesNotExist();
            assertThat(dest.resolve("backup_label")).doesNotExist();
            JsonNode stopped = new ObjectMapper().readTree(cellar("--json", "jobs", "list", "--job", "restore").out());
            assertThat(stopped).hasSize(1);
            assertThat(stopped.get(0).get("status").asText()).isEqualTo("STOPPED");
            Path locks = dir.resolve("repo/main/locks");
            if (Files.isDirectory(locks)) {
                try (Stream<Path> held = Files.list(locks)) {
                    assertThat(held.map(p -> p.getFileName().toString())).as("the restore lock is released").noneMatch(n -> n.startsWith("restore-"));
                }
            }

            // The same command without --bwlimit restarts it, keeps the files done, and says it keeps the first run's limit
            // (a restart runs with its first run's parameters).
            Path out = dir.resolve("restart.json");
            Path err = dir.resolve("restart.log");
            Process again = new ProcessBuilder(DIST.resolve("bin/cellar").toString(), "--config", config.toString(), "--json",
                    "recover", "main", "latest", dest.toString(), "--target-immediate", "--target-action", "promote")
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            try {
                assertThat(again.waitFor(180, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            } finally {
                again.destroyForcibly().waitFor();
            }
            assertThat(again.exitValue()).as(Files.readString(out) + Files.readString(err)).isZero();
            assertThat(Files.readString(err)).contains("Restarting the unfinished restore into " + dest + " with its first run's parameters: "
                    + "--bwlimit 1048576 bytes/s (this command asked for none)");
            JsonNode result = new ObjectMapper().readTree(out.toFile());
            assertThat(result.get("restarted").asBoolean()).isTrue();
            JsonNode files = null;
            for (JsonNode st : result.get("execution").get("steps")) {
                if (st.get("name").asText().equals("restore.restore-files")) {
                    files = st.get("checkpoint");
                }
            }
            assertThat(files).as(result.toString()).isNotNull();
            assertThat(files.get("restore.restore-files.files-already-done").asLong()).as(files.toString()).isGreaterThan(0);
            assertThat(temporaryFile(dest)).isEmpty();
            verifyBackup(pg, dest);
            try (PostgresCluster restored = PostgresCluster.adopt(pg.binaries(), dest.getParent(), pg.password())) {
                bases.remove(dest.getParent());
                restored.awaitPromoted(120);
                assertThat(count(restored)).isEqualTo(expected);
            }
        }
    }

    @Test
    void aRestoreKilledMidCopyContinuesADeltaRestoreRepairsAndACorruptBundleFailsNamingTheFile() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start(PostgresCluster.Spec.defaults().setting("autovacuum", "off"))) {
            pg.execute("CREATE TABLE big (id int, filler text)",
                    "INSERT INTO big SELECT g, md5(random()::text) || md5(random()::text) || md5(random()::text) || md5(random()::text) "
                            + "FROM generate_series(1, 1500000) g", "CHECKPOINT");
            long expected = count(pg);
            backUpAndSweep(pg);

            // kill -9 while the largest file is being written.
            Path dest = newDestination();
            List<String> command = List.of(DIST.resolve("bin/cellar").toString(), "--config", config.toString(),
                    "recover", "main", "latest", dest.toString(), "--target-immediate", "--target-action", "promote");
            Process first = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("first.log").toFile()).start();
            Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(10))
                    .until(() -> !first.isAlive() || temporaryFile(dest).map(p -> size(p) > (8L << 20)).orElse(false));
            first.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook, no cleanup
            assertThat(temporaryFile(dest)).as(Files.readString(dir.resolve("first.log"))).isPresent();
            assertThat(dest.resolve("recovery.signal")).doesNotExist();
            assertThat(dest.resolve("backup_manifest")).doesNotExist();

            // The same command again: the killed execution is found orphaned, marked FAILED, and restarted.
            String afterKill = cellar("--json", "jobs", "list", "--job", "restore").out();
            CliRun again = cellar(command.subList(3, command.size()).toArray(String[]::new));
            assertThat(again.exitCode()).as(again + "\nafter the kill: " + afterKill + "\n" + Files.readString(dir.resolve("first.log"))).isZero();
            assertThat(again.out()).contains("Restarted the unfinished restore into " + dest);
            assertThat(temporaryFile(dest)).isEmpty();
            verifyBackup(pg, dest);
            JsonNode runs = new ObjectMapper().readTree(cellar("--json", "jobs", "list", "--job", "restore").out());
            assertThat(runs).hasSize(2);
            assertThat(runs.get(0).get("status").asText()).isEqualTo("COMPLETED");
            assertThat(runs.get(1).get("status").asText()).isEqualTo("FAILED");

            // A delta restore over a damaged copy: a block overwritten, a file deleted, a stray file added.
            Path second = newDestination();
            CliRun plain = cellar("recover", "main", "latest", second.toString(), "--target-immediate", "--target-action", "promote");
            assertThat(plain.exitCode()).as(plain.toString()).isZero();
            Path largest;
            try (Stream<Path> s = Files.walk(second.resolve("base"))) {
                largest = s.filter(Files::isRegularFile).max(Comparator.comparingLong(RestoreRestartIT::size)).orElseThrow();
            }
            try (RandomAccessFile f = new RandomAccessFile(largest.toFile(), "rw")) {
                f.seek(f.length() / 2);
                f.write(new byte[8192]);
            }
            Files.delete(second.resolve("PG_VERSION"));
            Files.writeString(second.resolve("base/stray-file"), "not in the backup");
            OsProcess.Result damaged = OsProcess.run(List.of(pg.binaries().tool("pg_verifybackup").toString(), "-n", second.toString()), null, 120);
            assertThat(damaged.exitCode()).as("pg_verifybackup sees the damage").isNotZero();
            CliRun delta = cellar("--json", "recover", "main", "latest", second.toString(), "--target-immediate", "--target-action", "promote", "--delta");
            assertThat(delta.exitCode()).as(delta.toString()).isZero();
            JsonNode steps = new ObjectMapper().readTree(delta.out()).get("execution").get("steps");
            JsonNode files = null;
            for (JsonNode st : steps) {
                if (st.get("name").asText().equals("restore.restore-files")) {
                    files = st.get("checkpoint");
                }
            }
            assertThat(files).as(delta.out()).isNotNull();
            assertThat(files.get("restore.restore-files.bytes-written").asLong()).as(files.toString())
                    .isGreaterThan(0).isLessThan(8L << 20);
            assertThat(files.get("restore.restore-files.files-unchanged").asLong()).isGreaterThan(500);
            assertThat(second.resolve("base/stray-file")).doesNotExist();
            assertThat(second.resolve("PG_VERSION")).exists();
            verifyBackup(pg, second);
            try (PostgresCluster restored = PostgresCluster.adopt(pg.binaries(), second.getParent(), pg.password())) {
                bases.remove(second.getParent());
                restored.awaitPromoted(120);
                assertThat(count(restored)).isEqualTo(expected);
            }

            // A corrupted bundle: the restore fails naming the file, and nothing claims success.
            Path bundle;
            try (Stream<Path> s = Files.walk(dir.resolve("repo/main/backups"))) {
                bundle = s.filter(p -> p.getParent().getFileName().toString().equals("bundles") && !p.toString().endsWith(".idx"))
                        .max(Comparator.comparingLong(RestoreRestartIT::size)).orElseThrow();
            }
            try (RandomAccessFile f = new RandomAccessFile(bundle.toFile(), "rw")) {
                f.seek(f.length() / 2);
                int b = f.read();
                f.seek(f.length() / 2);
                f.write(b ^ 0x5A);
            }
            Path third = newDestination();
            CliRun corrupt = cellar("recover", "main", "latest", third.toString(), "--target-immediate");
            assertThat(corrupt.exitCode()).as(corrupt.toString()).isEqualTo(1);
            assertThat(corrupt.out() + corrupt.err()).containsPattern("base/\\d+/\\d+(\\.\\d+)?: frame at backups/\\S+ offset \\d+ does not match its checksum "
                    + "\\(the bundle is damaged\\)");
            assertThat(third.resolve("recovery.signal")).doesNotExist();
            assertThat(third.resolve("backup_manifest")).doesNotExist();
            assertThat(third.resolve("backup_label")).doesNotExist();
        }
    }
}
