package dev.cellar.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.testing.CliRun;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.TestConfig;
import dev.cellar.storage.LocalStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The wal-sweep job against a real cluster archiving through cellar-wal-archive, with every kind of bad input. */
class WalSweepIT {

    @TempDir
    Path dir;

    private static List<String> switchWal(PostgresCluster pg, int times) throws Exception {
        List<String> names = new ArrayList<>();
        try (var c = pg.connect(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS t (n int)");
            for (int i = 0; i < times; i++) {
                s.execute("INSERT INTO t SELECT generate_series(1, 1000)");
                try (ResultSet rs = s.executeQuery("SELECT pg_walfile_name(pg_switch_wal())")) {
                    rs.next();
                    names.add(rs.getString(1));
                }
            }
        }
        for (String n : names) {
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(pg.spool().resolve(n)));
        }
        return names;
    }

    private static List<String> spooled(Path spool) throws Exception {
        try (Stream<Path> s = Files.list(spool)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted().toList();
        }
    }

    @Test
    void spooledWalIsArchivedValidatedAndRemovedFromTheSpool() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            List<String> names = switchWal(pg, 3);
            Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
            Path config = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
            List<String> before = spooled(pg.spool());
            assertThat(before).containsAll(names);

            CliRun run = CliRun.run(dir, "--config", config.toString(), "archive-wal", "main");
            assertThat(run.exitCode()).as(run.toString()).isZero();
            assertThat(run.out()).contains("status:   COMPLETED (exit COMPLETED)").contains("checkpoint wal-sweep.last-archived-segment");

            WalArchive archive = new WalArchive(new LocalStorage(dir.resolve("repo")), "main", 3);
            List<String> archived = archive.list().stream().map(WalFileName::name).toList();
            assertThat(archived).containsAll(before);
            assertThat(spooled(pg.spool())).doesNotContainAnyElementsOf(before);
            for (String n : names) {
                byte[] content = archive.read(WalFileName.parse(n).orElseThrow());
                assertThat(content).hasSize(16 << 20);
                WalPageHeader.validate(content, WalFileName.parse(n).orElseThrow(), content.length, 15,
                        dev.cellar.repository.ServerIdentity.read(new LocalStorage(dir.resolve("repo")), "main").orElseThrow().systemIdentifier(),
                        16 << 20);
            }
            assertThat(Files.exists(dir.resolve("repo/main/server.json"))).as("the first sweep records the server's identity").isTrue();

            pg.execute("INSERT INTO t SELECT generate_series(1, 10)");
            CliRun switched = CliRun.run(dir, "--config", config.toString(), "--json", "switch-wal", "main", "--archive", "--timeout", "60");
            assertThat(switched.exitCode()).as(switched.toString()).isZero();
            String segment = new com.fasterxml.jackson.databind.ObjectMapper().readTree(switched.out()).get("segment").asText();
            assertThat(archive.contains(WalFileName.parse(segment).orElseThrow())).isTrue();

            CliRun list = CliRun.run(dir, "--config", config.toString(), "list-wal", "main");
            assertThat(list.exitCode()).as(list.toString()).isZero();
            assertThat(list.out()).contains("Timeline 1:").contains(".. " + segment).doesNotContain("GAP");
            CliRun json = CliRun.run(dir, "--config", config.toString(), "--json", "list-wal", "main");
            assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.out()).get("timelines").get(0).get("gaps")).isEmpty();

            // a backup, then WAL archived after it: continuous; a segment lost from the repository: a gap check reports
            assertThat(CliRun.run(dir, "--config", config.toString(), "backup", "main", "--wait").exitCode()).isZero();
            for (int i = 0; i < 3; i++) {
                pg.execute("INSERT INTO t SELECT generate_series(1, 10)");
                assertThat(CliRun.run(dir, "--config", config.toString(), "switch-wal", "main", "--archive").exitCode()).isZero();
            }
            assertThat(CliRun.run(dir, "--config", config.toString(), "check", "main").out()).containsPattern("wal-continuity:\\s+OK");
            List<WalFileName> all = archive.list().stream().filter(f -> f.kind() == WalFileName.Kind.SEGMENT).toList();
            WalFileName lost = all.get(all.size() - 2);
            Files.delete(dir.resolve("repo/main").resolve(archive.pathOf(lost).substring("main/".length())));
            CliRun gap = CliRun.run(dir, "--config", config.toString(), "check", "main");
            assertThat(gap.exitCode()).isEqualTo(1);
            assertThat(gap.out()).containsPattern("wal-continuity:\\s+FAILED\\s+gaps in the WAL since backup \\d{8}T\\d{6}: " + lost.name() + ".." + lost.name());
            assertThat(CliRun.run(dir, "--config", config.toString(), "list-wal", "main").out()).contains("GAP " + lost.name());
            // The WAL index (kept by the sweep) still names it: check says the repository lost a file the sweep archived.
            assertThat(gap.out()).containsPattern("wal-index:\\s+FAILED\\s+1 WAL files the sweep archived are gone from the repository: " + lost.name());
        }
    }

    @Test
    void badInputIsKeptAsideAndNothingArchivedIsLostOrOverwritten() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start();
             PostgresCluster other = PostgresCluster.start(PostgresCluster.Spec.defaults().freshInitdb())) {
            List<String> names = switchWal(pg, 2);
            Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
            Path config = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
            assertThat(CliRun.run(dir, "--config", config.toString(), "archive-wal", "main").exitCode()).isZero();
            WalArchive archive = new WalArchive(new LocalStorage(dir.resolve("repo")), "main", 3);
            WalFileName first = WalFileName.parse(names.get(0)).orElseThrow();
            byte[] original = archive.read(first);

            Path spool = pg.spool();
            // a random file
            Files.writeString(spool.resolve("notes.txt"), "not WAL");
            // the same segment again, identical (PostgreSQL re-archives after a crash): dropped
            Files.write(spool.resolve(first.name()), original);
            // the same name with different content: kept aside, the archived one untouched
            String second = names.get(1);
            byte[] changed = archive.read(WalFileName.parse(second).orElseThrow());
            changed[100_000] ^= 0x01;
            Files.write(spool.resolve(second), changed);
            // a segment renamed: its page address does not match its name
            String renamed = WalFileName.parse(names.get(1)).orElseThrow().segment().orElseThrow().next(16 << 20).next(16 << 20).toString();
            Files.write(spool.resolve(renamed), original);
            // a truncated segment
            String truncated = WalFileName.parse(renamed).orElseThrow().segment().orElseThrow().next(16 << 20).toString();
            Files.write(spool.resolve(truncated), java.util.Arrays.copyOf(original, 1 << 20));
            // a segment of another cluster
            String foreignName = switchWal(other, 1).get(0);
            String foreignAs = WalFileName.parse(truncated).orElseThrow().segment().orElseThrow().next(16 << 20).toString();
            byte[] foreign = Files.readAllBytes(other.spool().resolve(foreignName));
            Files.write(spool.resolve(foreignAs), foreign);

            CliRun run = CliRun.run(dir, "--config", config.toString(), "archive-wal", "main");
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(3);
            assertThat(run.out()).contains("COMPLETED_WITH_WARNINGS").contains("5 files kept in wal-errors: ")
                    .contains("notes.txt UNKNOWN (not a WAL file name)")
                    .contains(second + " DUPLICATE (different content)")
                    .contains(renamed + " CORRUPT (WRONG_PAGE_ADDRESS)")
                    .contains(truncated + " CORRUPT (WRONG_SIZE)")
                    .contains(foreignAs + " CORRUPT (WRONG_SYSTEM)")
                    .contains("checkpoint wal-sweep.last-archived-segment = " + first.name());

            // nothing archived was lost or overwritten
            assertThat(archive.read(first)).isEqualTo(original);
            assertThat(archive.read(WalFileName.parse(second).orElseThrow())).isNotEqualTo(changed).hasSize(16 << 20);
            assertThat(archive.contains(WalFileName.parse(renamed).orElseThrow())).isFalse();
            // everything left the spool: archived, dropped, or kept in wal-errors as found
            assertThat(spooled(spool)).doesNotContain("notes.txt", first.name(), second, renamed, truncated, foreignAs);
            List<String> errors = archive.errors();
            assertThat(errors).anyMatch(e -> e.startsWith("notes.txt.") && e.endsWith(".unknown"));
            assertThat(errors).anyMatch(e -> e.startsWith(second + ".") && e.endsWith(".duplicate"));
            assertThat(errors).anyMatch(e -> e.startsWith(renamed + ".") && e.endsWith(".corrupt"));
            assertThat(errors).anyMatch(e -> e.startsWith(foreignAs + ".") && e.endsWith(".corrupt"));
            assertThat(errors).hasSize(5);
            assertThat(CliRun.run(dir, "--config", config.toString(), "list-wal", "main").out()).doesNotContain("GAP");

            // check reports them until an operator deals with them
            CliRun check = CliRun.run(dir, "--config", config.toString(), "check", "main");
            assertThat(check.exitCode()).isEqualTo(1);
            assertThat(check.out()).containsPattern("wal-errors:\\s+FAILED\\s+5 files kept aside by wal-sweep");
        }
    }

    @Test
    void aFullRepositoryFailsTheSweepKeepsTheSpoolAndTheRestartCompletes() throws Exception {
        Path repo = Files.createDirectories(dir.resolve("repo"));
        var mount = dev.cellar.testing.OsProcess.run(List.of("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", repo.toString()), null, 30);
        org.junit.jupiter.api.Assumptions.assumeTrue(mount.exitCode() == 0, "needs root to mount a small tmpfs: " + mount.output());
        try (PostgresCluster pg = PostgresCluster.start()) {
            // WAL full of random text compresses about 2:1: two segments do not fit in 8 MiB.
            pg.execute("CREATE TABLE noise (v text)");
            List<String> names = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                pg.execute("INSERT INTO noise SELECT md5(random()::text) || md5(random()::text) FROM generate_series(1, 150000)");
                names.addAll(switchWal(pg, 1));
            }
            Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
            Path config = TestConfig.write(dir, pg, "postgres", passfile, repo.toUri().toString());
            List<String> spooledBefore = spooled(pg.spool());

            CliRun full = CliRun.run(dir, "--config", config.toString(), "archive-wal", "main");
            assertThat(full.exitCode()).as(full.toString()).isEqualTo(1);
            assertThat(full.out()).contains("status:   FAILED").contains("No space left on device");
            // nothing lost: every spooled file is either archived (and readable) or still in the spool
            WalArchive archive = new WalArchive(new LocalStorage(repo), "main", 3);
            List<String> archived = archive.list().stream().map(WalFileName::name).toList();
            List<String> stillSpooled = spooled(pg.spool());
            assertThat(stillSpooled).isNotEmpty();
            for (String n : spooledBefore) {
                assertThat(archived.contains(n) || stillSpooled.contains(n)).as(n).isTrue();
            }
            for (String n : archived) {
                assertThat(archive.read(WalFileName.parse(n).orElseThrow())).hasSize(16 << 20);
            }
            assertThat(repo.resolve("main/locks/archive.json")).doesNotExist();

            var grow = dev.cellar.testing.OsProcess.run(List.of("mount", "-o", "remount,size=256m", repo.toString()), null, 30);
            assertThat(grow.exitCode()).as(grow.output()).isZero();
            CliRun again = CliRun.run(dir, "--config", config.toString(), "archive-wal", "main");
            assertThat(again.exitCode()).as(again.toString()).isZero();
            assertThat(again.out()).contains("status:   COMPLETED");
            assertThat(archive.list().stream().map(WalFileName::name).toList()).containsAll(spooledBefore);
            assertThat(spooled(pg.spool())).doesNotContainAnyElementsOf(spooledBefore);
            CliRun history = CliRun.run(dir, "--config", config.toString(), "--json", "jobs", "list", "--job", "wal-sweep");
            var runs = new com.fasterxml.jackson.databind.ObjectMapper().readTree(history.out());
            assertThat(runs.get(0).get("status").asText()).isEqualTo("COMPLETED");
            assertThat(runs.get(0).get("identity").asText()).as("the failed run was restarted").isEqualTo(runs.get(1).get("identity").asText());
        } finally {
            dev.cellar.testing.OsProcess.run(List.of("umount", repo.toString()), null, 30);
        }
    }
}
