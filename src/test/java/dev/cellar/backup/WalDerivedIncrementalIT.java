package dev.cellar.backup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.config.CellarSettings;
import dev.cellar.config.ServerSettings;
import dev.cellar.config.SettingsLoader;
import dev.cellar.postgres.BackupSession;
import dev.cellar.postgres.Lsn;
import dev.cellar.postgres.PostgresConnector;
import dev.cellar.repository.BackupInfo;
import dev.cellar.repository.BlockRun;
import dev.cellar.repository.ManifestEntry;
import dev.cellar.storage.LocalStorage;
import dev.cellar.testing.CliRun;
import dev.cellar.testing.OsProcess;
import dev.cellar.testing.PostgresBinaries;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.TestConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * WAL-derived incrementals (docs/design.md 5.6) against real clusters. Between a full backup and the incremental the
 * workload does what changes relation files without block WAL, or in ways a block map can miss: CREATE DATABASE with
 * the FILE_COPY strategy, ALTER DATABASE SET TABLESPACE (and back), TRUNCATE, DROP TABLE, VACUUM FULL, a VACUUM that truncates
 * a heap in place and a COPY refilling it, an unlogged table, and (PostgreSQL 15 here) a relation growing past 1 GiB into a
 * second segment file and a random pgbench workload. Then, in one backup session, the incremental is copied twice: from the WAL summaries and by comparing blocks.
 * The two manifests must agree block for block (same checksums, and each block either the parent's same block or newly
 * stored in both), while the WAL-derived copy reads a fraction of the bytes. Last, the WAL-derived incremental is
 * restored through the command line, recovered to the end of the archived WAL, and must hold what the live cluster holds.
 */
class WalDerivedIncrementalIT {

    @TempDir
    Path dir;

    private final List<Path> bases = new ArrayList<>();

    @AfterEach
    void removeRestoredDirectories() {
        bases.forEach(OsProcess::deleteTree);
    }

    @Test
    void postgres15TheWalDerivedManifestEqualsTheBlockCompareOneAndRestores() throws Exception {
        scenario(PostgresBinaries.requireLocal(), true);
    }

    @Test
    void postgres17TheWalDerivedManifestEqualsTheBlockCompareOneAndRestores() throws Exception {
        PostgresBinaries bin = PostgresBinaries.zonky(17).orElse(null);
        Assumptions.assumeTrue(bin != null, "zonky's PostgreSQL 17 binaries (target/pg-binaries)");
        scenario(bin, false);
    }

    private void scenario(PostgresBinaries bin, boolean pastOneGiB) throws Exception {
        // No autovacuum and no timed checkpoint: between the two copies of one session nothing may change the files.
        PostgresCluster.Spec spec = PostgresCluster.Spec.defaults().binaries(bin).setting("autovacuum", "off")
                .setting("checkpoint_timeout", "1h").setting("max_wal_size", "4GB");
        try (PostgresCluster pg = PostgresCluster.start(spec)) {
            Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
            Path config = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
            CellarSettings settings = new SettingsLoader(Map.of(), dir).load(config);
            ServerSettings server = settings.server("main");
            LocalStorage repo = new LocalStorage(dir.resolve("repo"));
            Path tablespace = Files.createDirectories(pg.base().resolve("tablespace"));
            OsProcess.chownToPostgres(tablespace);

            pg.execute("CREATE TABLESPACE elsewhere LOCATION '" + tablespace + "'",
                    "CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, filler text)",
                    // In a tablespace: its files are pg_tblspc/<oid>/PG_.../<db>/<relfilenode>, its WAL names the tablespace's OID.
                    "CREATE TABLE spaced TABLESPACE elsewhere AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 100000) g",
                    "INSERT INTO accounts SELECT g, 0, repeat(md5(g::text), 4) FROM generate_series(1, 300000) g",
                    "CREATE TABLE emptied AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 50000) g",
                    "CREATE TABLE dropped AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 50000) g",
                    "CREATE TABLE rewritten AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 50000) g",
                    "CREATE TABLE shrunk AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 100000) g",
                    "CREATE DATABASE source_db", "CREATE DATABASE moved_db", "CREATE DATABASE scratch_db");
            // Unlogged: recovery leaves it empty. In a database of its own, so that pg_dump of postgres is the same after a restore.
            runIn(pg, "scratch_db", "CREATE UNLOGGED TABLE scratch AS SELECT g AS id FROM generate_series(1, 20000) g");
            runIn(pg, "source_db", "CREATE TABLE things AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 20000) g");
            runIn(pg, "moved_db", "CREATE TABLE things AS SELECT g AS id, md5(g::text) AS t FROM generate_series(1, 20000) g");
            if (pastOneGiB) {
                // 1 GiB less 4 MiB of heap: rows of about 1.9 kB (under TOAST's threshold), 4 to a page.
                // In a database of its own, so that pg_dump of postgres stays small.
                pg.execute("CREATE DATABASE big_db");
                runIn(pg, "big_db", "CREATE TABLE big (id int, pad text) WITH (autovacuum_enabled = off)",
                        "ALTER TABLE big ALTER COLUMN pad SET STORAGE PLAIN",
                        "INSERT INTO big SELECT g, repeat(md5(g::text), 59) FROM generate_series(1, 4 * (131072 - 512)) g", "VACUUM big");
            }
            // A random OLTP workload too, where pgbench is at hand (not in zonky's binaries): HOT updates, page pruning, index hints.
            boolean pgbench = bin.has("pgbench");
            if (pgbench) {
                pgbench(pg, "-i", "-q", "-s", "3");
            }
            // Hint bits set before the full backup (with data checksums, setting them later logs every page).
            pg.execute("VACUUM (FREEZE, ANALYZE)", "SELECT count(*) FROM accounts", "CHECKPOINT");

            BaseBackup backup = new BaseBackup(repo, server, PostgresConnector.fromProcess());
            // Changed after the full's copy read it and before its stop, in a segment before the stop's: the parent holds the
            // old rows, only the WAL from its start (not from its stop) names the blocks.
            BackupInfo full = takeFull(backup, "20261127T010000", () -> pg.execute("UPDATE accounts SET balance = -1 WHERE id % 1000 = 0",
                    "SELECT pg_switch_wal()"));
            long bigSize0 = 0;
            String bigPath = null;
            if (pastOneGiB) {
                bigPath = relationPath(pg, "big_db", "big");
                bigSize0 = Files.size(pg.dataDir().resolve(bigPath));
                assertThat(bigSize0).isLessThan(1L << 30);
                assertThat(pg.dataDir().resolve(bigPath + ".1")).doesNotExist();
            }

            // What changes between the full and the incremental.
            pg.execute("UPDATE accounts SET balance = balance + 1 WHERE id BETWEEN 100000 AND 103000",
                    "INSERT INTO accounts SELECT g, 0, 'new' FROM generate_series(300001, 303000) g",
                    "TRUNCATE emptied", "INSERT INTO emptied VALUES (1, 'after the truncate')",
                    "UPDATE spaced SET t = 'changed' WHERE id BETWEEN 40000 AND 40100",
                    "DROP TABLE dropped",
                    "VACUUM FULL rewritten",
                    "DELETE FROM shrunk WHERE id > 60000", "VACUUM shrunk",
                    "CREATE DATABASE copied_db TEMPLATE source_db STRATEGY FILE_COPY",
                    "ALTER DATABASE moved_db SET TABLESPACE elsewhere");
            runIn(pg, "copied_db", "UPDATE things SET t = 'copied' WHERE id <= 100");
            // Changed while elsewhere (its block WAL names the other tablespace), then moved back to the same paths: only the
            // database's sentinel says its files there were rewritten.
            runIn(pg, "moved_db", "UPDATE things SET t = 'moved' WHERE id % 7 = 0");
            pg.execute("ALTER DATABASE moved_db SET TABLESPACE pg_default");
            // Truncated by the VACUUM above, then refilled by COPY: from PostgreSQL 16 a bulk load extends the heap several
            // pages at a time without WAL, so zero pages the WAL never names may lie where the parent had the old tail.
            try (Connection c = connect(pg, "postgres")) {
                StringBuilder rows = new StringBuilder();
                for (int i = 1; i <= 15000; i++) {
                    rows.append(200000 + i).append('\t').append("refilled ").append(i).append('\n');
                }
                c.unwrap(org.postgresql.PGConnection.class).getCopyAPI()
                        .copyIn("COPY shrunk FROM STDIN", new java.io.StringReader(rows.toString()));
            }
            runIn(pg, "scratch_db", "UPDATE scratch SET id = -id");
            if (pgbench) {
                pgbench(pg, "-c", "2", "-j", "2", "-T", "5");
            }
            if (pastOneGiB) {
                runIn(pg, "big_db", "INSERT INTO big SELECT g, repeat(md5(g::text), 59) FROM generate_series(1, 4 * 1024) g");
                assertThat(pg.dataDir().resolve(bigPath + ".1")).as("big grew into a second segment file").exists();
            }

            BaseBackup.Plan plan = backup.plan("20261127T020000", false, null);
            assertThat(plan.parentId()).isEqualTo(full.id());
            BackupSession session = backup.startSession(plan);
            Instant start = Instant.now();
            BaseBackup.CopyResult fromWal = backup.copy(plan, session.startLsn(), session.startTimeline(), "w", (a, b, c, d) -> { });
            BaseBackup.Plan comparePlan = new BaseBackup.Plan("20261127T020001", plan.type(), plan.parentId(), plan.cluster());
            BaseBackup.CopyResult compared = new BaseBackup(repo, server, PostgresConnector.fromProcess())
                    .preferring(BaseBackup.IncrementalMethod.BLOCK_COMPARE).copy(comparePlan, session.startLsn(), session.startTimeline(), "c", (a, b, c, d) -> { });
            BackupSession.Stop stop = session.stop();
            session.close();

            assertThat(fromWal.method()).as(fromWal.methodNote()).isEqualTo(BaseBackup.IncrementalMethod.WAL_SUMMARIES);
            // The segment the session started in was still pg_wal's: summarized by the backup up to its start.
            assertThat(fromWal.methodNote()).doesNotContain("(0 summarized now)");
            assertThat(compared.method()).isEqualTo(BaseBackup.IncrementalMethod.BLOCK_COMPARE);
            assertThat(differences(fromWal.entries(), compared.entries(), full.id())).isEmpty();
            // It read a fraction: accounts' unchanged blocks and big's first segment (when there) stayed unread.
            String accounts = relationPath(pg, "postgres", "accounts");
            ManifestEntry accountsEntry = byPath(fromWal.entries()).get(accounts);
            assertThat(accountsEntry.sha256()).as("read in part: no whole-file SHA-256; " + fromWal.methodNote() + "; accounts "
                    + accounts + " " + accountsEntry.size() + " bytes, read " + fromWal.bytesRead() + ", unread " + fromWal.bytesUnread()).isNull();
            assertThat(fromWal.bytesUnread()).isGreaterThan(Files.size(pg.dataDir().resolve(accounts)) / 2);
            assertThat(fromWal.bytesRead()).as("bytes read from the WAL map vs by comparison")
                    .isLessThan(compared.bytesRead() - Files.size(pg.dataDir().resolve(accounts)) / 2);
            if (pastOneGiB) {
                assertThat(byPath(fromWal.entries())).containsKey(bigPath + ".1");
                assertThat(fromWal.bytesRead()).isLessThan(compared.bytesRead() - bigSize0 + (64L << 20));
            }
            String spaced = relationPath(pg, "postgres", "spaced");
            assertThat(spaced).startsWith("pg_tblspc/");
            assertThat(byPath(fromWal.entries()).get(spaced).sha256()).as("read in part, in its tablespace").isNull();
            // Databases created or moved are read whole (their directory's sentinel), as are new relation files.
            String copiedDir = "base/" + scalarIn(pg, "postgres", "SELECT oid FROM pg_database WHERE datname = 'copied_db'") + "/";
            assertThat(fromWal.entries()).filteredOn(e -> e.path().startsWith(copiedDir) && e.type() == ManifestEntry.Type.FILE)
                    .isNotEmpty().allMatch(e -> e.sha256() != null);

            BackupInfo incremental = backup.commit(plan, stop, fromWal, start, Instant.now());
            assertThat(incremental.incrementalMethod()).isEqualTo("wal-summaries");
            assertThat(BackupInfo.read(repo, "main", incremental.id()).orElseThrow().incrementalNote()).contains("segments");

            // Restored and recovered to the end of the archived WAL, it holds what the live cluster holds.
            Map<String, String> live = fingerprint(pg, pastOneGiB);
            // zonky's binaries have no pg_dump, and Debian's 15 refuses a 17 server: there the fingerprint alone compares.
            String liveDump = bin.has("pg_dump") ? pg.pgDump() : null;
            assertThat(cellar(config, "switch-wal", "main", "--archive").exitCode()).isZero();
            Path dest = newDestination();
            CliRun recover = cellar(config, "recover", "main", incremental.id(), dest.toString(), "--target-action", "promote",
                    "--tablespace", scalarIn(pg, "postgres", "SELECT oid FROM pg_tablespace WHERE spcname = 'elsewhere'") + "="
                            + Files.createDirectories(dest.getParent().resolve("tablespace")));
            assertThat(recover.exitCode()).as(recover.toString()).isZero();
            try (PostgresCluster restored = PostgresCluster.adopt(pg.binaries(), dest.getParent(), pg.password())) {
                bases.remove(dest.getParent());
                restored.awaitPromoted(120);
                if (liveDump != null) {
                    assertThat(restored.pgDump()).isEqualTo(liveDump);
                }
                assertThat(fingerprint(restored, pastOneGiB)).isEqualTo(live);
                assertThat(scalarIn(restored, "scratch_db", "SELECT count(*) FROM scratch")).as("unlogged: empty after recovery").isEqualTo("0");
                assertThat(scalarIn(pg, "scratch_db", "SELECT count(*) FROM scratch")).isEqualTo("20000");
            }
        }
    }

    /**
     * Through the command line. A damaged summary (they are written without fsync) is computed again from its
     * segment, says so, and rebuild-wal-index replaces it. An unsafe one makes the incremental compare blocks instead,
     * and it says why in the job's exit message, in show-backup and in backup.json.
     */
    @Test
    void aDamagedSummaryIsComputedAgainAndAnUnsafeOneFallsBackToBlockComparison() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
            Path config = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
            pg.execute("CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 100000) g");
            CliRun full = cellar(config, "backup", "main", "--wait");
            assertThat(full.exitCode()).as(full.toString()).isZero();
            pg.execute("UPDATE t SET v = 'x' WHERE id < 100");
            assertThat(cellar(config, "switch-wal", "main", "--archive").exitCode()).isZero();
            Path summary;
            try (java.util.stream.Stream<Path> files = Files.walk(dir.resolve("repo/main/wal"))) {
                summary = files.filter(f -> f.toString().endsWith(".summary")).sorted().reduce((a, b) -> b).orElseThrow();
            }
            byte[] good = Files.readAllBytes(summary);
            Files.write(summary, new byte[] {1, 2, 3});
            String segment = summary.getFileName().toString().replace(".summary", "");
            CliRun checked = cellar(config, "check", "main");
            assertThat(checked.out()).containsPattern("wal-summaries:\\s+WARNING\\s+\\d+ segments archived since backup \\w+ started, \\d+ summarized; "
                    + "1 do not decode \\(the next backup summarizes them again\\): " + segment);

            CliRun recomputed = cellar(config, "backup", "main");
            assertThat(recomputed.exitCode()).as(recomputed.toString()).isZero();
            assertThat(recomputed.out()).contains("incremental from the WAL summaries: WAL ").contains("1 of them for a damaged summary");
            CliRun rebuilt = cellar(config, "rebuild-wal-index", "main");
            assertThat(rebuilt.exitCode()).as(rebuilt.toString()).isZero();
            assertThat(rebuilt.out()).contains("  replaced: " + segment + " (");
            assertThat(Files.readAllBytes(summary)).as("rebuild-wal-index replaced the damaged summary").isEqualTo(good);

            // An unsafe summary (as wal_level=minimal would leave) in the next incremental's range.
            pg.execute("UPDATE t SET v = 'y' WHERE id < 100");
            assertThat(cellar(config, "switch-wal", "main", "--archive").exitCode()).isZero();
            Path next;
            try (java.util.stream.Stream<Path> files = Files.walk(dir.resolve("repo/main/wal"))) {
                next = files.filter(f -> f.toString().endsWith(".summary")).sorted().reduce((a, b) -> b).orElseThrow();
            }
            assertThat(next).isNotEqualTo(summary);
            segment = next.getFileName().toString().replace(".summary", "");
            dev.cellar.wal.WalSummary unsafe = dev.cellar.wal.WalSummary.decode(Files.readAllBytes(next), next.toString());
            unsafe.markUnsafe("wal_level=minimal in a parameter change (planted by the test)");
            Files.delete(next);
            Files.write(next, unsafe.encode());
            assertThat(cellar(config, "check", "main").out()).containsPattern("wal-summaries:\\s+WARNING\\s+.*1 unsafe, so the next incremental "
                    + "compares blocks: " + segment + " \\(wal_level=minimal");
            CliRun fallback = cellar(config, "backup", "main");
            assertThat(fallback.exitCode()).as(fallback.toString()).isZero();
            String why = "the WAL of " + segment + " cannot vouch for the blocks it changed: wal_level=minimal in a parameter change (planted by the test)";
            assertThat(fallback.out()).contains("incremental by block comparison, not from the WAL summaries: " + why)
                    .contains("Changes found by:        block-compare: " + why);
            com.fasterxml.jackson.databind.JsonNode shown = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(cellar(config, "--json", "show-backup", "main", "latest").out());
            assertThat(shown.get("incrementalMethod").asText()).isEqualTo("block-compare");
            assertThat(shown.get("incrementalNote").asText()).isEqualTo(why);
            assertThat(Files.readString(dir.resolve("repo/main/backups/" + shown.get("id").asText() + "/backup.json")))
                    .contains("\"incremental-method\" : \"block-compare\"").contains("planted by the test");
            assertThat(dir.resolve("repo/main/wal/" + segment.substring(0, 16) + "/" + segment + ".zst")).as("the segment itself stays").exists();
        }
    }

    /**
     * A promotion between the parent and the incremental: the parent was taken on timeline 1 of the old primary, the
     * incremental of the promoted standby on timeline 2. The map follows 00000002.history (timeline 1's segments up to
     * the switch, timeline 2's from the segment it began in), agrees block for block with block comparison, and the
     * incremental restores to what the new primary holds.
     */
    @Test
    void anIncrementalAfterAPromotionFollowsTheTimelineHistory() throws Exception {
        try (PostgresCluster primary = PostgresCluster.start(PostgresCluster.Spec.defaults().freshInitdb().setting("autovacuum", "off"))) {
            Path passfile = primary.writePassfile(dir.resolve("pgpass"), Map.of("postgres", primary.password()));
            Path primaryConfig = TestConfig.write(dir, primary, "postgres", passfile, TestConfig.fileRepository(dir));
            LocalStorage repo = new LocalStorage(dir.resolve("repo"));
            primary.execute("CREATE TABLE events (id int PRIMARY KEY, what text)",
                    "INSERT INTO events SELECT g, md5(g::text) FROM generate_series(1, 100000) g", "VACUUM (FREEZE, ANALYZE) events", "CHECKPOINT");
            BaseBackup onPrimary = new BaseBackup(repo, new SettingsLoader(Map.of(), dir).load(primaryConfig).server("main"),
                    PostgresConnector.fromProcess());
            BackupInfo full = takeFull(onPrimary, "20261127T010000", () -> { });
            assertThat(full.timeline()).isEqualTo(1);

            try (PostgresCluster standby = primary.standby()) {
                primary.execute("UPDATE events SET what = 'on timeline 1' WHERE id BETWEEN 1000 AND 1200");
                org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60))
                        .until(() -> "201".equals(scalarIn(standby, "postgres", "SELECT count(*) FROM events WHERE what = 'on timeline 1'")));
                primary.stop();
                standby.promote();
                standby.awaitPromoted(60);
                standby.execute("UPDATE events SET what = 'on timeline 2' WHERE id BETWEEN 50000 AND 50300",
                        "INSERT INTO events SELECT g, 'new on timeline 2' FROM generate_series(100001, 101000) g");

                // The server is now the promoted standby: its data directory, its port; the same spool (its archive_command).
                Path config = TestConfig.write(dir, standby, "postgres", standby.writePassfile(dir.resolve("pgpass2"),
                        Map.of("postgres", standby.password())), TestConfig.fileRepository(dir));
                Files.writeString(config, Files.readString(config).replace(standby.spool().toString(), primary.spool().toString()));
                ServerSettings server = new SettingsLoader(Map.of(), dir).load(config).server("main");
                BaseBackup backup = new BaseBackup(repo, server, PostgresConnector.fromProcess());
                BaseBackup.Plan plan = backup.plan("20261127T020000", false, null);
                assertThat(plan.parentId()).isEqualTo(full.id());
                BackupSession session = backup.startSession(plan);
                assertThat(session.startTimeline()).isEqualTo(2);
                Instant start = Instant.now();
                BaseBackup.CopyResult fromWal = backup.copy(plan, session.startLsn(), session.startTimeline(), "w", (a, b, c, d) -> { });
                BaseBackup.CopyResult compared = new BaseBackup(repo, server, PostgresConnector.fromProcess())
                        .preferring(BaseBackup.IncrementalMethod.BLOCK_COMPARE)
                        .copy(new BaseBackup.Plan("20261127T020001", plan.type(), plan.parentId(), plan.cluster()), session.startLsn(),
                                session.startTimeline(), "c", (a, b, c, d) -> { });
                BackupSession.Stop stop = session.stop();
                session.close();
                assertThat(fromWal.method()).as(fromWal.methodNote()).isEqualTo(BaseBackup.IncrementalMethod.WAL_SUMMARIES);
                assertThat(differences(fromWal.entries(), compared.entries(), full.id())).isEmpty();
                String events = relationPath(standby, "postgres", "events");
                assertThat(byPath(fromWal.entries()).get(events).sha256()).as("read in part across the promotion").isNull();
                BackupInfo incremental = backup.commit(plan, stop, fromWal, start, Instant.now());
                assertThat(incremental.timeline()).isEqualTo(2);

                Map<String, String> live = Map.of("events", scalarIn(standby, "postgres",
                        "SELECT count(*) || ' ' || sum(('x' || substr(md5(x::text), 1, 15))::bit(60)::bigint::numeric) FROM events x"));
                assertThat(cellar(config, "switch-wal", "main", "--archive").exitCode()).isZero();
                Path dest = newDestination();
                CliRun recover = cellar(config, "recover", "main", incremental.id(), dest.toString(), "--target-action", "promote");
                assertThat(recover.exitCode()).as(recover.toString()).isZero();
                try (PostgresCluster restored = PostgresCluster.adopt(standby.binaries(), dest.getParent(), standby.password())) {
                    bases.remove(dest.getParent());
                    restored.awaitPromoted(120);
                    assertThat(Map.of("events", scalarIn(restored, "postgres",
                            "SELECT count(*) || ' ' || sum(('x' || substr(md5(x::text), 1, 15))::bit(60)::bigint::numeric) FROM events x")))
                            .isEqualTo(live);
                }
            }
        }
    }

    /** A full backup, with {@code afterCopy} run between its copy and its stop (WAL the parent's copy may not show). */
    private BackupInfo takeFull(BaseBackup backup, String id, Runnable afterCopy) throws Exception {
        BaseBackup.Plan plan = backup.plan(id, true, null);
        BackupSession session = backup.startSession(plan);
        Instant start = Instant.now();
        BaseBackup.CopyResult copy = backup.copy(plan, session.startLsn(), session.startTimeline(), "f", (a, b, c, d) -> { });
        afterCopy.run();
        BackupSession.Stop stop = session.stop();
        session.close();
        assertThat(copy.method()).isNull();
        return backup.commit(plan, stop, copy, start, Instant.now());
    }

    /** Where the two copies disagree: paths, sizes, block checksums, or a block the parent holds in one and not the other. */
    static List<String> differences(List<ManifestEntry> fromWal, List<ManifestEntry> compared, String parentId) {
        List<String> out = new ArrayList<>();
        Map<String, ManifestEntry> a = byPath(fromWal);
        Map<String, ManifestEntry> b = byPath(compared);
        if (!a.keySet().equals(b.keySet())) {
            out.add("paths differ: only from WAL " + a.keySet().stream().filter(p -> !b.containsKey(p)).toList()
                    + ", only compared " + b.keySet().stream().filter(p -> !a.containsKey(p)).toList());
        }
        String parentBundles = "backups/" + parentId + "/";
        for (ManifestEntry x : a.values()) {
            ManifestEntry y = b.get(x.path());
            if (y == null || x.type() != ManifestEntry.Type.FILE) {
                continue;
            }
            if (x.size() != y.size() || x.blockSize() != y.blockSize() || !java.util.Arrays.equals(x.blockChecksums(), y.blockChecksums())) {
                out.add(x.path() + ": size " + x.size() + "/" + y.size() + ", blocks differ");
                continue;
            }
            for (int block = 0; block < x.blockCount(); block++) {
                String fx = location(x, block, parentBundles);
                String fy = location(y, block, parentBundles);
                if (!fx.equals(fy)) {
                    out.add(x.path() + " block " + block + ": " + fx + " from WAL, " + fy + " compared");
                    break;
                }
            }
        }
        return out;
    }

    /** The parent's frame and block when the parent stores the block, else "new". */
    private static String location(ManifestEntry e, int block, String parentBundles) {
        for (BlockRun r : e.runs()) {
            if (block >= r.firstBlock() && block < r.endBlock()) {
                return r.frame().bundle().startsWith(parentBundles)
                        ? r.frame().bundle() + "@" + r.frame().offset() + "#" + (r.frameBlock() + block - r.firstBlock()) : "new";
            }
        }
        return "missing";
    }

    private static Map<String, ManifestEntry> byPath(List<ManifestEntry> entries) {
        Map<String, ManifestEntry> m = new TreeMap<>();
        entries.forEach(e -> m.put(e.path(), e));
        return m;
    }

    /** Per database and table, the row count and a sum of the rows' hashes (string_agg would pass 1 GB for big). */
    private static Map<String, String> fingerprint(PostgresCluster pg, boolean big) throws Exception {
        Map<String, String> out = new LinkedHashMap<>();
        List<String[]> tables = new ArrayList<>(List.of(new String[] {"postgres", "accounts"}, new String[] {"postgres", "emptied"},
                new String[] {"postgres", "rewritten"}, new String[] {"postgres", "shrunk"}, new String[] {"postgres", "spaced"}, new String[] {"source_db", "things"},
                new String[] {"copied_db", "things"}, new String[] {"moved_db", "things"}));
        if (big) {
            tables.add(new String[] {"big_db", "big"});
        }
        for (String[] t : tables) {
            out.put(t[0] + "." + t[1], scalarIn(pg, t[0], "SELECT count(*) || ' ' || coalesce(sum(('x' || substr(md5(x::text), 1, 15))::bit(60)::bigint::numeric), 0) FROM "
                    + t[1] + " x"));
        }
        out.put("databases", scalarIn(pg, "postgres", "SELECT string_agg(datname || ':' || t.spcname, ',' ORDER BY datname) "
                + "FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace"));
        return out;
    }

    private static void pgbench(PostgresCluster pg, String... args) {
        List<String> command = new ArrayList<>(List.of(pg.binaries().tool("pgbench").toString(), "-h", pg.base().toString(),
                "-p", Integer.toString(pg.port()), "-U", PostgresCluster.SUPERUSER));
        command.addAll(List.of(args));
        command.add("postgres");
        OsProcess.runAsPostgres(command, pg.base(), 120);
    }

    private static Connection connect(PostgresCluster pg, String database) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", PostgresCluster.SUPERUSER);
        p.setProperty("password", pg.password());
        return DriverManager.getConnection(pg.jdbcUrl(PostgresCluster.SUPERUSER).replace("/postgres?", "/" + database + "?"), p);
    }

    private static void runIn(PostgresCluster pg, String database, String... sql) throws Exception {
        try (Connection c = connect(pg, database); Statement s = c.createStatement()) {
            for (String q : sql) {
                s.execute(q);
            }
        }
    }

    private static String scalarIn(PostgresCluster pg, String database, String sql) throws Exception {
        try (Connection c = connect(pg, database); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static String relationPath(PostgresCluster pg, String database, String table) throws Exception {
        return scalarIn(pg, database, "SELECT pg_relation_filepath('" + table + "')");
    }

    private CliRun cellar(Path config, String... args) {
        return CliRun.withConfig(dir, config, args);
    }

    private Path newDestination() {
        Path base = PostgresCluster.newBase();
        bases.add(base);
        return base.resolve("data");
    }
}
