package dev.cellar.restore;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cellar.repository.BackupInfo;
import dev.cellar.storage.LocalStorage;
import dev.cellar.testing.CliRun;
import dev.cellar.testing.OsProcess;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.TestConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Point-in-time recovery end to end, with real clusters: back up, change, record the state at a
 * point, destroy, restore to that point with each kind of target, start the restored copy and
 * compare its pg_dump with the dump taken at the point; pg_verifybackup on every restored
 * directory; and every refusal with its message.
 */
class RestoreIT {

    @TempDir
    Path dir;

    private final List<Path> bases = new ArrayList<>();

    @AfterEach
    void removeRestoredDirectories() {
        bases.forEach(OsProcess::deleteTree);
    }

    private Path config;

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

    private static String scalar(PostgresCluster pg, String sql) throws Exception {
        try (Connection c = pg.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** pg_verifybackup -n (no WAL parsing) on a restored directory; returns its output, asserting success. */
    private static String verifyBackup(PostgresCluster pg, Path dest) {
        OsProcess.Result r = OsProcess.run(List.of(pg.binaries().tool("pg_verifybackup").toString(), "-n", dest.toString()), null, 120);
        assertThat(r.exitCode()).as(r.output()).isZero();
        return r.output();
    }

    /** Recovers, checks the directory with pg_verifybackup, starts it, and returns its pg_dump once promoted. */
    private String recoverAndDump(PostgresCluster pg, String backup, String... targetArgs) throws Exception {
        Path dest = newDestination();
        List<String> args = new ArrayList<>(List.of("recover", "main", backup, dest.toString(), "--target-action", "promote"));
        args.addAll(List.of(targetArgs));
        CliRun r = cellar(args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("Restored backup").contains("status:   COMPLETED");
        assertThat(dest.resolve("recovery.signal")).exists();
        assertThat(Files.readString(dest.resolve("postgresql.auto.conf"))).contains("archive_mode = 'off'")
                .contains("restore_command = 'cp \"" + dest.resolve("cellar_wal") + "/%f\" \"%p\"'");
        verifyBackup(pg, dest);
        try (PostgresCluster restored = PostgresCluster.adopt(pg.binaries(), dest.getParent(), pg.password())) {
            bases.remove(dest.getParent());
            restored.awaitPromoted(120);
            assertThat(dest.resolve("cellar_wal")).as("recovery_end_command removes the staged WAL").doesNotExist();
            return restored.pgDump();
        }
    }

    @Test
    void recoversToATimeAnLsnARestorePointAndATransactionThroughFullAndIncrementalBackups() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
            config = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
            pg.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL, filler text)",
                    "INSERT INTO accounts SELECT g, 100, md5(g::text) FROM generate_series(1, 100000) g",
                    // No sequences: PostgreSQL logs them 32 values ahead, so a recovered sequence differs from the live one by design.
                    "CREATE TABLE orders (id bigint PRIMARY KEY, account int, amount int, at timestamptz DEFAULT now())",
                    "INSERT INTO orders (id, account, amount) SELECT g, g % 1000, g FROM generate_series(1, 20000) g");
            CliRun full = cellar("backup", "main", "--wait");
            assertThat(full.exitCode()).as(full.toString()).isZero();
            pg.execute("UPDATE accounts SET balance = balance + 7 WHERE id % 10 = 0",
                    "INSERT INTO orders (id, account, amount) SELECT 20000 + g, g % 1000, -g FROM generate_series(1, 5000) g");
            CliRun incremental = cellar("backup", "main", "--wait");
            assertThat(incremental.exitCode()).as(incremental.toString()).isZero();
            JsonNode backups = new ObjectMapper().readTree(cellar("--json", "list-backups", "main").out());
            String fullId = backups.get(0).get("id").asText();
            String incrementalId = backups.get(1).get("id").asText();
            assertThat(backups.get(1).get("type").asText()).isEqualTo("incremental");
            // The recoveries below through the incremental go through a WAL-derived one (docs/design.md 5.6).
            assertThat(backups.get(1).get("incrementalMethod").asText()).as(incremental.toString()).isEqualTo("wal-summaries");
            assertThat(incremental.out()).contains("incremental from the WAL summaries: WAL ");

            // The state S to recover: after transaction X, marked by a restore point, an LSN and a time.
            pg.execute("UPDATE accounts SET balance = balance - 3 WHERE id BETWEEN 500 AND 900",
                    "INSERT INTO orders (id, account, amount) VALUES (25001, 42, 4242)");
            String xid;
            try (Connection c = pg.connect(); Statement st = c.createStatement()) {
                c.setAutoCommit(false);
                st.execute("INSERT INTO orders (id, account, amount) VALUES (25002, 7, 777)");
                ResultSet rs = st.executeQuery("SELECT txid_current()");
                rs.next();
                xid = rs.getString(1);
                c.commit();
            }
            pg.execute("SELECT pg_create_restore_point('before-the-mistake')");
            String lsn = scalar(pg, "SELECT pg_current_wal_insert_lsn()");
            Thread.sleep(50);
            String time = scalar(pg, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')");
            String dumpAtS = pg.pgDump();
            long ordersAtS = Long.parseLong(scalar(pg, "SELECT count(*) FROM orders"));
            Thread.sleep(50);
            // The mistakes, after the point.
            pg.execute("DROP TABLE orders", "UPDATE accounts SET balance = 0 WHERE id < 50000");
            CliRun switched = cellar("switch-wal", "main", "--archive");
            assertThat(switched.exitCode()).as(switched.toString()).isZero();
            pg.execute("CREATE TABLE later AS SELECT g FROM generate_series(1, 1000) g");
            switched = cellar("switch-wal", "main", "--archive");
            assertThat(switched.exitCode()).as(switched.toString()).isZero();
            assertThat(pg.pgDump()).isNotEqualTo(dumpAtS);
            assertThat(dumpAtS).contains("CREATE TABLE public.orders");

            // Time, through the incremental chosen by 'auto'.
            assertThat(recoverAndDump(pg, "auto", "--target-time", time)).isEqualTo(dumpAtS);
            // Restore point, through the full backup (more WAL to replay).
            assertThat(recoverAndDump(pg, fullId, "--target-name", "before-the-mistake")).isEqualTo(dumpAtS);
            // Transaction id, through the latest backup (the incremental).
            assertThat(recoverAndDump(pg, "latest", "--target-xid", xid)).isEqualTo(dumpAtS);
            // LSN, stopping just before the first record after the point.
            assertThat(recoverAndDump(pg, incrementalId, "--target-lsn", lsn, "--exclusive")).isEqualTo(dumpAtS);
            assertThat(ordersAtS).isEqualTo(25002);
            try (Stream<Path> spool = Files.list(pg.spool())) {
                assertThat(spool.map(p -> p.getFileName().toString())).as("restored copies never archive into the server's spool")
                        .noneMatch(n -> n.startsWith("00000002"));
            }

            // Refusals, each before anything is written.
            Path dest = newDestination();
            BackupInfo inc = BackupInfo.read(new LocalStorage(dir.resolve("repo")), "main", incrementalId).orElseThrow();
            CliRun before = cellar("recover", "main", incrementalId, dest.toString(), "--target-time", inc.stopTime().minusSeconds(3600).toString());
            assertThat(before.exitCode()).as(before.toString()).isEqualTo(6);
            assertThat(before.err()).contains("the target is before the end of backup " + incrementalId + ": target time "
                    + inc.stopTime().minusSeconds(3600) + " is before the backup ended (" + inc.stopTime() + ")");
            CliRun beyond = cellar("recover", "main", "latest", dest.toString(), "--target-time", Instant.now().plusSeconds(3600).toString());
            assertThat(beyond.exitCode()).as(beyond.toString()).isEqualTo(6);
            assertThat(beyond.err()).contains("is after the newest transaction in the archived WAL (it ended at ")
                    .contains("Archive more WAL ('cellar switch-wal main --archive') or choose an earlier target");
            CliRun beyondLsn = cellar("recover", "main", "latest", dest.toString(), "--target-lsn", "FF/0");
            assertThat(beyondLsn.exitCode()).as(beyondLsn.toString()).isEqualTo(6);
            assertThat(beyondLsn.err()).contains("target LSN FF/0 is beyond the archived WAL: the newest archived segment on timeline 1's path is");
            CliRun zoneless = cellar("recover", "main", "latest", dest.toString(), "--target-time", "2026-11-27 03:00:00");
            assertThat(zoneless.exitCode()).as(zoneless.toString()).isEqualTo(2);
            assertThat(zoneless.err()).contains("--target-time '2026-11-27 03:00:00' has no time zone; a time without one is ambiguous. "
                    + "Add the zone, e.g. '2026-11-27 03:00:00Z' for UTC");
            CliRun two = cellar("recover", "main", "latest", dest.toString(), "--target-time", time, "--target-xid", xid);
            assertThat(two.exitCode()).as(two.toString()).isEqualTo(2);
            assertThat(two.err()).contains("mutually exclusive");
            CliRun inside = cellar("recover", "main", "latest", pg.dataDir().resolve("restored").toString(), "--target-immediate");
            assertThat(inside.exitCode()).as(inside.toString()).isEqualTo(6);
            assertThat(inside.err()).contains("is inside the data directory of the server (" + pg.dataDir() + "); restore somewhere else");
            Files.createDirectories(dest);
            Files.writeString(dest.resolve("precious.txt"), "not a cluster");
            CliRun nonEmpty = cellar("recover", "main", "latest", dest.toString(), "--target-immediate");
            assertThat(nonEmpty.exitCode()).as(nonEmpty.toString()).isEqualTo(6);
            assertThat(nonEmpty.err()).contains("destination " + dest + " is not empty; restore into an empty or new directory, "
                    + "or give --delta to reuse what it holds (files not in the backup are removed)");
            assertThat(dest.resolve("precious.txt")).hasContent("not a cluster");
            CliRun missingXid = cellar("recover", "main", "latest", newDestination().toString(), "--target-xid", "4000000000");
            assertThat(missingXid.exitCode()).as(missingXid.toString()).isEqualTo(1);
            assertThat(missingXid.out() + missingXid.err()).contains("no commit or abort of transaction 4000000000 in the archived WAL");

            // A gap in the range an LSN target needs: one segment after the incremental's end goes missing.
            long segSize = 16L << 20;
            String gap = dev.cellar.postgres.WalSegmentName.ofSegmentNumber(1,
                    dev.cellar.postgres.Lsn.parse(inc.stopLsn()).segmentNumber(segSize) + 1, segSize).toString();
            Path stored = dir.resolve("repo/main/wal/" + gap.substring(0, 16) + "/" + gap + ".zst");
            assertThat(stored).exists();
            Files.move(stored, dir.resolve("moved-away.zst"));
            CliRun gapped = cellar("recover", "main", incrementalId, newDestination().toString(), "--target-lsn", lsn);
            assertThat(gapped.exitCode()).as(gapped.toString()).isEqualTo(6);
            assertThat(gapped.err()).contains("WAL segment " + gap + " is not in the archive (a gap): recovery to LSN " + lsn
                    + " must replay every segment from " + inc.beginWal());
        }
    }
}
