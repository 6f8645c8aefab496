package dev.cellar.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.repository.ServerIdentity;
import dev.cellar.storage.LocalStorage;
import dev.cellar.testing.CliRun;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.PostgresCluster.Spec;
import dev.cellar.testing.TestConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cellar check} against real PostgreSQL clusters, through the real command line. */
class CheckIT {

    @TempDir
    Path dir;

    private CliRun check(PostgresCluster cluster, String user, String password, String repository, String... extra) throws Exception {
        Path passfile = cluster.writePassfile(dir.resolve("pgpass"), Map.of(user, password));
        Path config = TestConfig.write(dir, cluster, user, passfile, repository);
        String[] args = new String[extra.length + 4];
        args[0] = "--config";
        args[1] = config.toString();
        System.arraycopy(extra, 0, args, 2, extra.length);
        args[extra.length + 2] = "check";
        args[extra.length + 3] = "main";
        return CliRun.run(dir, args);
    }

    private static String line(CliRun run, String check) {
        return run.out().lines().filter(l -> l.trim().startsWith(check + ":")).findFirst()
                .orElseThrow(() -> new AssertionError("no line for " + check + " in\n" + run));
    }

    @Test
    void aWellConfiguredClusterPassesEveryCheckAndArchivesThroughTheSpoolScript() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            // archive_command really runs cellar-wal-archive: a switched segment lands in the spool.
            String segment;
            try (var c = pg.connect(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE t AS SELECT generate_series(1, 1000) AS n");
                try (ResultSet rs = s.executeQuery("SELECT pg_walfile_name(pg_switch_wal())")) {
                    rs.next();
                    segment = rs.getString(1);
                }
            }
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(pg.spool().resolve(segment)));
            assertThat(Files.size(pg.spool().resolve(segment))).isEqualTo(16L * 1024 * 1024);

            CliRun run = check(pg, "postgres", pg.password(), TestConfig.fileRepository(dir));
            assertThat(run.exitCode()).as(run.toString()).isZero();
            for (String name : new String[] {"postgresql", "server-version", "wal-level", "archive-mode", "archive-command",
                    "backup-privileges", "archiver", "pgdata", "repository", "wal-spool", "system-identifier", "wal-errors",
                    "wal-continuity", "wal-spool-queue"}) {
                assertThat(line(run, name)).as(run.toString()).contains(" OK ");
            }
            assertThat(run.out()).contains("All critical checks passed.");
            assertThat(run.out()).doesNotContain(pg.password());
        }
    }

    @Test
    void jsonOutputListsEveryCheckWithItsStatus() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start(Spec.defaults().setting("archive_mode", "off"))) {
            CliRun run = check(pg, "postgres", pg.password(), TestConfig.fileRepository(dir), "--json");
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
            var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(run.out());
            assertThat(json.get("server").asText()).isEqualTo("main");
            assertThat(json.get("passed").asBoolean()).isFalse();
            var archiveMode = java.util.stream.StreamSupport.stream(json.get("checks").spliterator(), false)
                    .filter(c -> c.get("name").asText().equals("archive-mode")).findFirst().orElseThrow();
            assertThat(archiveMode.get("status").asText()).isEqualTo("FAILED");
            assertThat(archiveMode.get("hint").asText()).contains("archive_mode = on");
        }
    }

    @Test
    void failingArchivingIsReportedFromPgStatArchiver() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            Files.delete(pg.spool());
            try (var c = pg.connect(); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE t AS SELECT 1 AS n");
                s.execute("SELECT pg_switch_wal()");
            }
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
                try (var c = pg.connect(); Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT failed_count FROM pg_stat_archiver")) {
                    rs.next();
                    return rs.getLong(1) > 0;
                }
            });
            CliRun run = check(pg, "postgres", pg.password(), TestConfig.fileRepository(dir));
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
            assertThat(line(run, "archiver")).contains("FAILED").contains("archiving is failing").contains("000000010000000000000001");
            assertThat(line(run, "wal-spool")).contains("FAILED").contains("does not exist");
            assertThat(pg.serverLog()).contains("cellar-wal-archive: spool directory " + pg.spool() + " does not exist");
        }
    }

    @Test
    void aLongSpoolQueueAndOldWalFail() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            Files.writeString(pg.spool().resolve("000000010000000000000070"), "x");
            Files.writeString(pg.spool().resolve("000000010000000000000071"), "x");
            Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
            Path config = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
            CliRun run = CliRun.run(Map.of("CELLAR_SERVERS_MAIN_SPOOL_MAXIMUM_FILES", "1", "CELLAR_SERVERS_MAIN_LAST_WAL_MAXIMUM_AGE", "1 MINUTE"),
                    dir, "--config", config.toString(), "check", "main");
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
            assertThat(line(run, "wal-spool-queue")).contains("FAILED").contains("2 files wait in the spool, more than spool-maximum-files 1");
            assertThat(line(run, "last-wal-age")).contains("FAILED").contains("has not archived any WAL");
        }
    }

    @Test
    void archiveModeOffFails() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start(Spec.defaults().setting("archive_mode", "off"))) {
            CliRun run = check(pg, "postgres", pg.password(), TestConfig.fileRepository(dir));
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
            assertThat(line(run, "archive-mode")).contains("FAILED").contains("archive_mode is off");
            assertThat(run.out()).contains("hint: set archive_mode = on in postgresql.conf and restart PostgreSQL");
            assertThat(line(run, "wal-level")).contains(" OK ");
        }
    }

    @Test
    void walLevelMinimalFails() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start(Spec.defaults().withoutArchiving()
                .setting("wal_level", "minimal").setting("archive_mode", "off").setting("max_wal_senders", "0"))) {
            CliRun run = check(pg, "postgres", pg.password(), TestConfig.fileRepository(dir));
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
            assertThat(line(run, "wal-level")).contains("FAILED").contains("wal_level is minimal");
            assertThat(run.out()).contains("hint: set wal_level = replica");
        }
    }

    @Test
    void aWrongPasswordFailsTheConnectionWithoutShowingThePassword() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            String wrong = "not-the-password-" + System.nanoTime();
            CliRun run = check(pg, "postgres", wrong, TestConfig.fileRepository(dir));
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
            assertThat(line(run, "postgresql")).contains("FAILED").contains("password authentication failed for user \"postgres\"");
            assertThat(run.out()).contains("hint: check the password");
            assertThat(line(run, "wal-level")).contains("SKIPPED");
            assertThat(run.out() + run.err()).doesNotContain(wrong);
        }
    }

    @Test
    void anUnwritableRepositoryFails() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            // Tests run as root, for whom no permission bit says no: a repository below a plain file cannot be created.
            Path file = Files.writeString(dir.resolve("a-file"), "not a directory");
            CliRun run = check(pg, "postgres", pg.password(), file.resolve("repo").toUri().toString());
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
            assertThat(line(run, "repository")).contains("FAILED").contains("cannot write to " + file.resolve("repo").toUri());
            assertThat(line(run, "system-identifier")).contains("SKIPPED");
            assertThat(line(run, "postgresql")).contains(" OK ");
        }
    }

    @Test
    void aRoleWithoutBackupPrivilegesFailsAndTheShippedGrantsFixIt() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            pg.execute("CREATE ROLE cellar_plain LOGIN PASSWORD 'plain-pw'");
            CliRun run = check(pg, "cellar_plain", "plain-pw", TestConfig.fileRepository(dir));
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
            assertThat(line(run, "backup-privileges")).contains("FAILED").contains("pg_backup_start(text, boolean)");
            assertThat(run.out()).contains("hint: run sql/postgres/backup-role.sql");

            pg.psqlFile(Path.of("sql/postgres/backup-role.sql"), "cellar_role=cellar_plain");
            CliRun after = check(pg, "cellar_plain", "plain-pw", TestConfig.fileRepository(dir));
            assertThat(after.exitCode()).as(after.toString()).isZero();
            assertThat(line(after, "backup-privileges")).contains(" OK ").contains("granted");
            assertThat(line(after, "archive-command")).contains(" OK ");
        }
    }

    @Test
    void aRepositoryRecordedForAnotherClusterFailsTheIdentityCheck() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            String repo = TestConfig.fileRepository(dir);
            new ServerIdentity("1234567890123456789", 15, 16L * 1024 * 1024).write(new LocalStorage(dir.resolve("repo")), "main");
            CliRun run = check(pg, "postgres", pg.password(), repo);
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
            assertThat(line(run, "system-identifier")).contains("FAILED").contains("differs from the repository's 1234567890123456789");
        }
    }

    @Test
    void theRecordedIdentityOfThisClusterPasses() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            String repo = TestConfig.fileRepository(dir);
            String sysid;
            int major;
            try (var c = pg.connect(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT system_identifier::text, current_setting('server_version_num')::int / 10000 FROM pg_control_system()")) {
                rs.next();
                sysid = rs.getString(1);
                major = rs.getInt(2);
            }
            new ServerIdentity(sysid, major, 16L * 1024 * 1024).write(new LocalStorage(dir.resolve("repo")), "main");
            CliRun run = check(pg, "postgres", pg.password(), repo);
            assertThat(run.exitCode()).as(run.toString()).isZero();
            assertThat(line(run, "system-identifier")).contains(" OK ").contains(sysid);
        }
    }
}
