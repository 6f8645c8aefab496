package dev.cellar.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.storage.LocalStorage;
import dev.cellar.testing.CliRun;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.TestConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sweep killed with kill -9 while it moves segments (so some are stored and still in the spool, or
 * stored and gone, or not yet stored), then run again: every segment ends up in the repository
 * exactly as PostgreSQL archived it, the spool is empty, and nothing is taken for a duplicate.
 */
class WalSweepKillIT {

    static final Path DIST = Path.of(System.getProperty("cellar.dist", "target/cellar"));

    @TempDir
    Path dir;

    private static long storedSegments(Path repo) throws Exception {
        Path wal = repo.resolve("main/wal");
        if (!Files.isDirectory(wal)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(wal)) {
            return s.filter(p -> p.getFileName().toString().matches("[0-9A-F]{24}\\.zst")).count();
        }
    }

    private static List<Path> spooled(Path spool) throws Exception {
        try (Stream<Path> s = Files.list(spool)) {
            return s.filter(p -> p.getFileName().toString().matches("[0-9A-F]{24}")).sorted().toList();
        }
    }

    @Test
    void aSweepKilledMidWayIsCompletedByTheNextWithNothingLostOrDuplicated() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
            Path config = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
            // The first sweep records the server's identity; then about 25 segments of real WAL.
            assertThat(CliRun.run(dir, "--config", config.toString(), "archive-wal", "main").exitCode()).isZero();
            pg.execute("CREATE TABLE big AS SELECT g, md5(g::text) AS a, md5((g + 1)::text) AS b FROM generate_series(1, 2500000) g",
                    "SELECT pg_switch_wal()");
            Awaitility.await().atMost(Duration.ofSeconds(120)).until(() -> spooled(pg.spool()).size() >= 20);
            Thread.sleep(500);
            Path reference = Files.createDirectories(dir.resolve("reference"));
            List<Path> before = spooled(pg.spool());
            for (Path p : before) {
                Files.copy(p, reference.resolve(p.getFileName()));
            }

            Process sweep = new ProcessBuilder(DIST.resolve("bin/cellar").toString(), "--config", config.toString(), "archive-wal", "main")
                    .redirectErrorStream(true).redirectOutput(dir.resolve("killed.log").toFile()).start();
            Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(5))
                    .until(() -> !sweep.isAlive() || storedSegments(dir.resolve("repo")) >= 3);
            sweep.destroyForcibly().waitFor(); // SIGKILL
            long storedAtKill = storedSegments(dir.resolve("repo"));
            assertThat(spooled(pg.spool())).as("killed mid-way: " + Files.readString(dir.resolve("killed.log"))).isNotEmpty();
            assertThat(storedAtKill).isGreaterThanOrEqualTo(3);

            CliRun again = CliRun.run(dir, "--config", config.toString(), "archive-wal", "main");
            assertThat(again.exitCode()).as(again.toString()).isZero();
            assertThat(spooled(pg.spool()).stream().map(p -> p.getFileName().toString()))
                    .as("what PostgreSQL archived meanwhile may remain").doesNotContainAnyElementsOf(before.stream().map(p -> p.getFileName().toString()).toList());
            WalArchive archive = new WalArchive(new LocalStorage(dir.resolve("repo")), "main", 3);
            for (Path p : before) {
                WalFileName name = WalFileName.parse(p.getFileName().toString()).orElseThrow();
                assertThat(archive.read(name)).as(name.name()).isEqualTo(Files.readAllBytes(reference.resolve(p.getFileName())));
            }
            assertThat(archive.errors()).as("no duplicate, nothing corrupt").isEmpty();
            assertThat(WalIndex.read(new LocalStorage(dir.resolve("repo")), "main").orElseThrow().segmentCount()).isGreaterThanOrEqualTo(before.size());
        }
    }
}
