package dev.cellar.retention;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cellar.postgres.WalSegmentName;
import dev.cellar.repository.BackupCatalog;
import dev.cellar.repository.BackupInfo;
import dev.cellar.repository.BlockRun;
import dev.cellar.repository.ManifestEntry;
import dev.cellar.storage.LocalStorage;
import dev.cellar.storage.Storage;
import dev.cellar.testing.CliRun;
import dev.cellar.testing.OsProcess;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.TestConfig;
import dev.cellar.wal.WalArchive;
import dev.cellar.wal.WalFileName;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention on a real repository: four backups (a full with an incremental, then two fulls), REDUNDANCY 2 (two chains).
 * A dry run deletes nothing; prune removes exactly the planned backups, their WAL and their bundles,
 * freeing the bytes the plan said; what remains is complete and still recovers to a point in time;
 * a prune interrupted at any deletion is finished by the next one.
 */
class RetentionIT {

    @TempDir
    Path dir;

    private Path config;

    private CliRun cellar(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--config";
        all[1] = config.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        return CliRun.run(dir, all);
    }

    private String backup(PostgresCluster pg, boolean full) throws Exception {
        CliRun r = full ? cellar("backup", "main", "--full", "--wait") : cellar("backup", "main", "--wait");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(cellar("switch-wal", "main", "--archive").exitCode()).isZero();
        return new ObjectMapper().readTree(cellar("--json", "show-backup", "main", "latest").out()).get("id").asText();
    }

    /** Bytes of every file of the repository but the WAL index and locks (rewritten by the job itself). */
    private static long repositoryBytes(Path repo) throws IOException {
        try (Stream<Path> s = Files.walk(repo)) {
            return s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith("index.json"))
                    .filter(p -> !p.getParent().getFileName().toString().equals("locks")).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    /** Every frame of every committed backup is in a bundle long enough to hold it; returns how many frames. */
    static long auditFrames(Storage storage, String server) throws IOException {
        long frames = 0;
        for (BackupInfo b : new BackupCatalog(storage, server).list()) {
            for (ManifestEntry e : b.manifest(storage).entries()) {
                for (BlockRun r : e.runs()) {
                    String bundle = server + "/" + r.frame().bundle();
                    assertThat(storage.exists(bundle)).as(b.id() + " " + e.path() + " needs " + bundle).isTrue();
                    assertThat(storage.size(bundle)).as(bundle).isGreaterThanOrEqualTo(r.frame().offset() + r.frame().storedLength());
                    frames++;
                }
            }
        }
        return frames;
    }

    @Test
    void prunePlansDeletesExactlyThatAndWhatRemainsStillRecovers() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
            config = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
            Files.writeString(config, "      retention: \"REDUNDANCY 2\"\n", java.nio.file.StandardOpenOption.APPEND);
            pg.execute("CREATE TABLE t (id int PRIMARY KEY, v text)", "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 100000) g");
            String b1 = backup(pg, true);
            pg.execute("UPDATE t SET v = 'b2' WHERE id <= 5000");
            String b2 = backup(pg, false);
            pg.execute("INSERT INTO t SELECT g, 'b3' FROM generate_series(100001, 150000) g");
            String b3 = backup(pg, true);
            pg.execute("UPDATE t SET v = 'b4' WHERE id <= 5000");
            String b4 = backup(pg, true);
            pg.execute("INSERT INTO t SELECT g, 'after b4' FROM generate_series(150001, 151000) g");
            String time;
            try (Connection c = pg.connect(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")) {
                rs.next();
                time = rs.getString(1);
            }
            Thread.sleep(50);
            pg.execute("INSERT INTO t SELECT g, 'after T' FROM generate_series(151001, 152000) g");
            assertThat(cellar("switch-wal", "main", "--archive").exitCode()).isZero();

            CliRun list = cellar("list-backups", "main");
            assertThat(list.out()).containsPattern(b1 + ".*OBSOLETE").containsPattern(b2 + ".*OBSOLETE")
                    .containsPattern(b3 + ".*VALID").containsPattern(b4 + ".*VALID");

            Path repo = dir.resolve("repo");
            LocalStorage storage = new LocalStorage(repo);
            long before = repositoryBytes(repo);
            CliRun dry = cellar("--json", "prune", "main", "--dry-run");
            assertThat(dry.exitCode()).as(dry.toString()).isZero();
            JsonNode plan = new ObjectMapper().readTree(dry.out()).get("plan");
            assertThat(plan.get("deleteBackups")).extracting(JsonNode::asText).containsExactly(b1, b2);
            assertThat(repositoryBytes(repo)).as("a dry run deletes nothing").isEqualTo(before);
            long planned = plan.get("backupBytes").asLong() + plan.get("walBytes").asLong() + plan.get("bundleBytes").asLong();
            assertThat(plan.get("deleteWal").size()).isGreaterThan(0);

            CliRun prune = cellar("prune", "main");
            assertThat(prune.exitCode()).as(prune.toString()).isZero();
            assertThat(prune.out()).contains("Deleted 2 backups").containsPattern(b1 + "\\s+OBSOLETE\\s+older than the newest 2 full backups")
                    .containsPattern(b2 + "\\s+OBSOLETE\\s+its chain \\(" + b1 + "\\) is obsolete");
            assertThat(before - repositoryBytes(repo)).as("freed what the plan said").isEqualTo(planned);
            assertThat(repo.resolve("main/backups/" + b1)).doesNotExist();
            assertThat(repo.resolve("main/backups/" + b2)).doesNotExist();
            assertThat(new BackupCatalog(storage, "main").list()).extracting(BackupInfo::id).containsExactly(b3, b4);
            long firstKept = WalSegmentName.parse(BackupInfo.read(storage, "main", b3).orElseThrow().beginWal()).segmentNumber(16L << 20);
            List<WalFileName> wal = new WalArchive(storage, "main", 3).list();
            assertThat(wal).allMatch(f -> f.segment().orElseThrow().segmentNumber(16L << 20) >= firstKept);
            // a pruned segment's WAL summary went with it; the kept segments keep theirs
            assertThat(new WalArchive(storage, "main", 3).summarized())
                    .allMatch(f -> f.segment().orElseThrow().segmentNumber(16L << 20) >= firstKept).isNotEmpty();
            assertThat(auditFrames(storage, "main")).isGreaterThan(100);
            CliRun check = cellar("check", "main");
            assertThat(check.out()).containsPattern("wal-continuity:\\s+OK").containsPattern("wal-index:\\s+OK");

            // What remains recovers to a point after the oldest remaining backup.
            Path base = PostgresCluster.newBase();
            try {
                CliRun r = cellar("recover", "main", "auto", base.resolve("data").toString(), "--target-time", time, "--target-action", "promote");
                assertThat(r.exitCode()).as(r.toString()).isZero();
                try (PostgresCluster restored = PostgresCluster.adopt(pg.binaries(), base, pg.password())) {
                    base = null;
                    restored.awaitPromoted(120);
                    try (Connection c = restored.connect(); Statement st = c.createStatement();
                         ResultSet rs = st.executeQuery("SELECT count(*), count(*) FILTER (WHERE v = 'b4') FROM t")) {
                        rs.next();
                        assertThat(rs.getLong(1)).isEqualTo(151000);
                        assertThat(rs.getLong(2)).isEqualTo(5000);
                    }
                }
            } finally {
                if (base != null) {
                    OsProcess.deleteTree(base);
                }
            }
            // Nothing left to do.
            CliRun again = cellar("--json", "prune", "main");
            assertThat(new ObjectMapper().readTree(again.out()).get("plan").get("deleteBackups")).isEmpty();
            // check-repository: consistent, nothing unreferenced; then a bundle lost behind Cellar's back is reported.
            CliRun audit = cellar("check-repository", "main");
            assertThat(audit.exitCode()).as(audit.toString()).isZero();
            assertThat(audit.out()).contains("Every referenced frame is present.").contains("Unreferenced: 0 bundle files");
            Path lost;
            try (Stream<Path> bundles = Files.walk(repo.resolve("main/backups/" + b3 + "/bundles"))) {
                lost = bundles.filter(p -> p.getFileName().toString().endsWith(".idx")).findFirst().orElseThrow();
            }
            Path bundleFile = lost.resolveSibling(lost.getFileName().toString().replace(".idx", ""));
            Files.move(bundleFile, dir.resolve("lost-bundle"));
            CliRun broken = cellar("check-repository", "main");
            assertThat(broken.exitCode()).as(broken.toString()).isEqualTo(1);
            assertThat(broken.out()).containsPattern("\\d+ frames are MISSING").contains("(the bundle is missing)");
            Files.move(dir.resolve("lost-bundle"), bundleFile);
            // cellar cron: a sweep of every server and a prune where a policy is set, once.
            CliRun cron = cellar("cron");
            assertThat(cron.exitCode()).as(cron.toString()).isZero();
            assertThat(cron.out()).containsPattern("main\\s+wal-sweep\\s+COMPLETED").containsPattern("main\\s+retention-prune\\s+COMPLETED\\s+execution \\d+ 0 backups");
        }
    }

    @Test
    void aPruneInterruptedAtAnyDeletionIsFinishedByTheNextAndNeverShowsAHalfDeletedBackup() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
            config = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
            Files.writeString(config, "      retention: \"REDUNDANCY 1\"\n", java.nio.file.StandardOpenOption.APPEND);
            pg.execute("CREATE TABLE t (id int PRIMARY KEY, v text)", "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 50000) g");
            String b1 = backup(pg, true);
            pg.execute("UPDATE t SET v = 'x' WHERE id <= 1000");
            String b2 = backup(pg, false);
            pg.execute("UPDATE t SET v = 'y' WHERE id <= 1000");
            String b3 = backup(pg, true);
            Path pristine = dir.resolve("pristine");
            OsProcess.run(List.of("cp", "-a", dir.resolve("repo").toString(), pristine.toString()), null, 60);

            PrunePlan plan = new PrunePlanner(new LocalStorage(pristine), "main")
                    .plan(RetentionPolicy.parse("REDUNDANCY 1"), 1, Instant.now(), 16L << 20, false);
            assertThat(plan.deleteBackups()).containsExactly(b1, b2);
            int deletions = countDeletions(pristine, plan);
            assertThat(deletions).isGreaterThan(5);
            for (int crashAfter = 0; crashAfter < deletions; crashAfter += Math.max(1, deletions / 40)) {
                Path repo = dir.resolve("repo");
                OsProcess.deleteTree(repo);
                OsProcess.run(List.of("cp", "-a", pristine.toString(), repo.toString()), null, 60);
                CrashingStorage crashing = new CrashingStorage(new LocalStorage(repo), crashAfter);
                try {
                    PruneExecution.execute(crashing, plan);
                } catch (IOException crash) {
                    assertThat(crash).hasMessage("killed");
                }
                // Whatever the crash left, no half-deleted backup reads as one, and every listed backup is complete.
                List<String> listed = new BackupCatalog(new LocalStorage(repo), "main").list().stream().map(BackupInfo::id).toList();
                assertThat(listed).as("after " + crashAfter + " deletions").contains(b3).doesNotContain(b1);
                auditFrames(new LocalStorage(repo), "main");
                CliRun finish = cellar("--json", "prune", "main");
                assertThat(finish.exitCode()).as(finish.toString()).isZero();
                assertThat(repo.resolve("main/backups/" + b1)).as("after " + crashAfter + " deletions: " + finish.out() + "\n" + listing(repo.resolve("main/backups/" + b1)))
                        .doesNotExist();
                assertThat(repo.resolve("main/backups/" + b2)).doesNotExist();
                assertThat(new BackupCatalog(new LocalStorage(repo), "main").list()).extracting(BackupInfo::id).containsExactly(b3);
                assertThat(auditFrames(new LocalStorage(repo), "main")).isGreaterThan(10);
            }
        }
    }

    private static String listing(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return "(gone)";
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.map(Path::toString).collect(java.util.stream.Collectors.joining("\n"));
        }
    }

    private static int countDeletions(Path repo, PrunePlan plan) throws IOException {
        Path copy = repo.resolveSibling("count-copy");
        OsProcess.run(List.of("cp", "-a", repo.toString(), copy.toString()), null, 60);
        CrashingStorage counting = new CrashingStorage(new LocalStorage(copy), Integer.MAX_VALUE);
        PruneExecution.execute(counting, plan);
        OsProcess.deleteTree(copy);
        return counting.deletions.get();
    }

    /** Storage that dies (an IOException, nothing more done) at its n-th deletion, as a process killed there would. */
    static final class CrashingStorage implements Storage {
        private final Storage real;
        private final int crashAt;
        final AtomicInteger deletions = new AtomicInteger();

        CrashingStorage(Storage real, int crashAt) {
            this.real = real;
            this.crashAt = crashAt;
        }

        public String uri() {
            return real.uri();
        }

        public boolean exists(String path) throws IOException {
            return real.exists(path);
        }

        public long size(String path) throws IOException {
            return real.size(path);
        }

        public InputStream read(String path) throws IOException {
            return real.read(path);
        }

        public byte[] readRange(String path, long offset, int length) throws IOException {
            return real.readRange(path, offset, length);
        }

        public void write(String path, InputStream data, IfExists ifExists) throws IOException {
            real.write(path, data, ifExists);
        }

        public List<Entry> list(String directory) throws IOException {
            return real.list(directory);
        }

        public boolean delete(String path) throws IOException {
            if (deletions.get() >= crashAt) {
                throw new IOException("killed");
            }
            deletions.incrementAndGet();
            return real.delete(path);
        }
    }
}
