package dev.cellar.verify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cellar.storage.LocalStorage;
import dev.cellar.testing.CliRun;
import dev.cellar.testing.OsProcess;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.TestConfig;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
 * verify-restore against real clusters: a good backup passes and records its RTO; a corrupted bundle
 * fails naming the file; a WAL gap fails at select with the reason; after success, failure and a
 * kill -9, no scratch directory and no temporary server remain.
 */
class VerifyRestoreIT {

    static final Path DIST = Path.of(System.getProperty("cellar.dist", "target/cellar"));

    @TempDir
    Path dir;

    private Path config;
    private Path home;

    @AfterEach
    void removeHome() {
        if (home != null) {
            OsProcess.deleteTree(home);
        }
    }

    private CliRun cellar(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--config";
        all[1] = config.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        return CliRun.run(dir, all);
    }

    private Path configure(PostgresCluster pg) throws Exception {
        home = PostgresCluster.newBase(); // scratch space must be reachable by the OS user the temporary server runs as
        Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
        Path c = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
        Files.writeString(c, Files.readString(c).replace("home: " + dir.resolve("home"), "home: " + home)
                + "      verification-maximum-age: 1 DAY\n");
        return c;
    }

    private List<Path> scratch() throws Exception {
        Path root = home.resolve("scratch");
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.toList();
        }
    }

    /** A process that exists and is not a zombie (an orphaned postmaster that exited waits for a parent that may never reap it). */
    private static boolean running(long pid) {
        try {
            return Files.readAllLines(Path.of("/proc/" + pid + "/status")).stream()
                    .noneMatch(l -> l.startsWith("State:") && l.contains("Z"));
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static Optional<Long> postmasterPid(Path scratchDir) {
        try {
            return Optional.of(Long.parseLong(Files.readAllLines(scratchDir.resolve("data/postmaster.pid")).get(0).strip()));
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    @Test
    void aGoodBackupPassesWithItsRtoAndACorruptOneFailsNamingTheFileLeavingNothingBehind() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            config = configure(pg);
            pg.execute("CREATE TABLE t (id int PRIMARY KEY, v text)", "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 200000) g",
                    "CREATE INDEX ON t (v)");
            assertThat(cellar("backup", "main", "--wait").exitCode()).isZero();
            assertThat(cellar("archive-wal", "main").exitCode()).isZero();
            CliRun never = cellar("check", "main");
            assertThat(never.out()).containsPattern("verification:\\s+FAILED\\s+the newest backup \\d{8}T\\d{6} has never been verified");

            CliRun verify = cellar("verify", "main");
            assertThat(verify.exitCode()).as(verify.toString()).isZero();
            assertThat(verify.out()).contains("verification PASSED").containsPattern("OK\\s+tables postgres\\s+1 tables, 200000 rows counted")
                    .containsPattern("OK\\s+connect template1").containsPattern("OK\\s+amcheck postgres\\s+\\d+ B-tree indexes checked");
            String id = new ObjectMapper().readTree(cellar("--json", "show-backup", "main", "latest").out()).get("id").asText();
            VerificationRecord record = VerificationRecord.read(new LocalStorage(dir.resolve("repo")), "main", id).orElseThrow();
            assertThat(record.passed()).isTrue();
            assertThat(record.postgres()).startsWith("PostgreSQL " + pg.binaries().major() + " (");
            assertThat(record.restoreSeconds()).isPositive();
            assertThat(record.replaySeconds()).isPositive();
            assertThat(record.rtoSeconds()).isGreaterThanOrEqualTo(record.restoreSeconds() + record.replaySeconds());
            assertThat(scratch()).as("scratch space removed").isEmpty();
            assertThat(cellar("list-backups", "main").out()).containsPattern(id + ".*passed .* RTO \\d+\\.\\ds");
            assertThat(cellar("check", "main").out()).containsPattern("verification:\\s+OK\\s+backup " + id + " verified at");

            // A corrupted bundle: the verification fails naming the file, the failure is recorded, nothing remains.
            Path bundle;
            try (Stream<Path> s = Files.walk(dir.resolve("repo/main/backups"))) {
                bundle = s.filter(p -> p.getParent().getFileName().toString().equals("bundles") && !p.toString().endsWith(".idx"))
                        .max(Comparator.comparingLong(p -> p.toFile().length())).orElseThrow();
            }
            try (RandomAccessFile f = new RandomAccessFile(bundle.toFile(), "rw")) {
                f.seek(f.length() / 2);
                int b = f.read();
                f.seek(f.length() / 2);
                f.write(b ^ 0x5A);
            }
            CliRun corrupt = cellar("verify", "main", id);
            assertThat(corrupt.exitCode()).as(corrupt.toString()).isEqualTo(1);
            assertThat(corrupt.out() + corrupt.err()).containsPattern("base/\\d+/\\d+(\\.\\d+)?: frame at backups/\\S+ offset \\d+ does not match its checksum");
            VerificationRecord failed = VerificationRecord.read(new LocalStorage(dir.resolve("repo")), "main", id).orElseThrow();
            assertThat(failed.passed()).isFalse();
            assertThat(failed.failure()).contains("does not match its checksum");
            assertThat(scratch()).as("scratch space removed after a failure").isEmpty();
            assertThat(cellar("check", "main").out()).containsPattern("verification:\\s+FAILED\\s+the newest backup " + id + " FAILED its verification");
        }
    }

    @Test
    void aWalGapFailsAtSelectAndAKilledVerificationIsCleanedUpByTheNext() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            config = configure(pg);
            pg.execute("CREATE TABLE t (id int PRIMARY KEY, v text)", "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 300000) g");
            assertThat(cellar("backup", "main", "--wait").exitCode()).isZero();
            assertThat(cellar("archive-wal", "main").exitCode()).isZero();

            // kill -9 once the temporary server runs: it and the scratch space are left behind...
            Process killed = new ProcessBuilder(DIST.resolve("bin/cellar").toString(), "--config", config.toString(), "verify", "main")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("killed.log").toFile()).start();
            Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20))
                    .until(() -> !killed.isAlive() || scratch().stream().anyMatch(d -> postmasterPid(d).isPresent()));
            killed.destroyForcibly().waitFor();
            String killedLog = Files.readString(dir.resolve("killed.log"));
            Path left = scratch().stream().filter(d -> postmasterPid(d).isPresent()).findFirst()
                    .orElseThrow(() -> new AssertionError(killedLog));
            long pid = postmasterPid(left).orElseThrow();
            // ...and the next verification stops that server and removes it, then verifies.
            CliRun next = cellar("verify", "main");
            assertThat(next.exitCode()).as(next.toString()).isZero();
            assertThat(running(pid)).as("the killed verification's server is stopped").isFalse();
            assertThat(left).doesNotExist();
            assertThat(scratch()).isEmpty();

            // A gap in the WAL the backup needs: refused at select, with the reason.
            String id = new ObjectMapper().readTree(cellar("--json", "show-backup", "main", "latest").out()).get("id").asText();
            String beginWal = new ObjectMapper().readTree(cellar("--json", "show-backup", "main", "latest").out()).get("beginWal").asText();
            Files.move(dir.resolve("repo/main/wal/" + beginWal.substring(0, 16) + "/" + beginWal + ".zst"), dir.resolve("moved-away"));
            CliRun gap = cellar("verify", "main", id);
            assertThat(gap.exitCode()).as(gap.toString()).isEqualTo(1);
            assertThat(gap.out() + gap.err()).contains("verify-restore.select").contains("WAL segment " + beginWal + " is not in the archive");
            assertThat(scratch()).isEmpty();
        }
    }
}
