package dev.cellar.restore;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cellar.testing.CliRun;
import dev.cellar.testing.OsProcess;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.TestConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failover: the primary's standby is promoted (timeline 2) and archives into the same spool;
 * the sweep archives the new timeline, its history file and the old timeline's .partial; a backup
 * taken on timeline 1 is recovered along the history to a restore point made on timeline 2.
 */
class RestoreTimelineIT {

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

    private static long count(PostgresCluster pg, String table) throws Exception {
        try (Connection c = pg.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void aBackupOfTimelineOneIsRecoveredAlongTheHistoryToAPointOnTimelineTwo() throws Exception {
        try (PostgresCluster primary = PostgresCluster.start(PostgresCluster.Spec.defaults().freshInitdb())) {
            Path passfile = primary.writePassfile(dir.resolve("pgpass"), Map.of("postgres", primary.password()));
            config = TestConfig.write(dir, primary, "postgres", passfile, TestConfig.fileRepository(dir));
            primary.execute("CREATE TABLE events (id int PRIMARY KEY, what text)",
                    "INSERT INTO events SELECT g, 'before the backup' FROM generate_series(1, 10000) g");
            CliRun backup = cellar("backup", "main", "--wait");
            assertThat(backup.exitCode()).as(backup.toString()).isZero();
            String backupId = new ObjectMapper().readTree(cellar("--json", "show-backup", "main", "latest").out()).get("id").asText();

            try (PostgresCluster standby = primary.standby()) {
                primary.execute("INSERT INTO events SELECT g, 'on timeline 1' FROM generate_series(10001, 12000) g");
                Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> count(standby, "events") == 12000);
                primary.stop();
                standby.promote();
                standby.awaitPromoted(60);
                standby.execute("INSERT INTO events SELECT g, 'on timeline 2' FROM generate_series(12001, 13000) g",
                        "SELECT pg_create_restore_point('after-failover')",
                        "INSERT INTO events SELECT g, 'after the restore point' FROM generate_series(13001, 14000) g");
                String segment;
                try (Connection c = standby.connect(); Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT pg_walfile_name(pg_switch_wal())")) {
                    rs.next();
                    segment = rs.getString(1);
                }
                assertThat(segment).startsWith("00000002");
                Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(primary.spool().resolve(segment)));
                assertThat(primary.spool().resolve("00000002.history")).exists();
            }
            CliRun sweep = cellar("archive-wal", "main");
            assertThat(sweep.exitCode()).as(sweep.toString()).isZero();
            JsonNode wal = new ObjectMapper().readTree(cellar("--json", "list-wal", "main").out());
            assertThat(wal.toString()).contains("00000002.history").contains("\"timeline\":2");
            assertThat(wal.get("partialFiles").asLong()).as(wal.toString()).isEqualTo(1);
            // check follows the WAL across the promotion, along 00000002.history.
            CliRun check = cellar("check", "main");
            assertThat(check.out()).containsPattern("wal-continuity:\\s+OK\\s+\\w{24} \\.\\. 00000002\\w{16} along timelines 1 -> 2");
            // The sweep keeps the WAL index; rebuilt from the listing, it says the same.
            Path index = dir.resolve("repo/main/wal/index.json");
            assertThat(index).exists();
            Files.delete(index);
            Files.delete(dir.resolve("repo/main/wal/index.json.copy"));
            assertThat(new ObjectMapper().readTree(cellar("--json", "list-wal", "main").out())).as("without an index: from the listing").isEqualTo(wal);
            CliRun rebuilt = cellar("rebuild-wal-index", "main");
            assertThat(rebuilt.exitCode()).as(rebuilt.toString()).isZero();
            assertThat(rebuilt.out()).containsPattern("Rebuilt the WAL index of server main: \\d+ segments on 2 timelines, \\d+ other files");
            assertThat(index).exists();
            assertThat(new ObjectMapper().readTree(cellar("--json", "list-wal", "main").out())).isEqualTo(wal);

            // Along timeline 1 only, the restore point does not exist: refused after staging, naming the target.
            Path base = PostgresCluster.newBase();
            try {
                CliRun current = cellar("recover", "main", backupId, base.resolve("wrong").toString(), "--target-name", "after-failover");
                assertThat(current.exitCode()).as(current.toString()).isEqualTo(1);
                assertThat(current.out() + current.err()).contains("no restore point named 'after-failover' in the archived WAL");

                Path dest = base.resolve("data");
                CliRun latest = cellar("recover", "main", backupId, dest.toString(), "--target-tli", "latest",
                        "--target-name", "after-failover", "--target-action", "promote");
                assertThat(latest.exitCode()).as(latest.toString()).isZero();
                assertThat(latest.out()).contains("timeline: 2");
                assertThat(Files.readString(dest.resolve("postgresql.auto.conf"))).contains("recovery_target_timeline = '2'");
                assertThat(dest.resolve("cellar_wal/00000002.history")).exists();
                OsProcess.deleteTree(base.resolve("wrong"));
                try (PostgresCluster restored = PostgresCluster.adopt(primary.binaries(), base, primary.password())) {
                    base = null;
                    restored.awaitPromoted(120);
                    assertThat(count(restored, "events")).isEqualTo(13000);
                    assertThat(count(restored, "events WHERE what = 'on timeline 2'")).isEqualTo(1000);
                }
            } finally {
                if (base != null) {
                    OsProcess.deleteTree(base);
                }
            }
        }
    }
}
