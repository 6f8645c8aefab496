package dev.cellar.backup;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cellar.postgres.PageChecksum;
import dev.cellar.repository.BackupInfo;
import dev.cellar.repository.Manifest;
import dev.cellar.repository.ManifestEntry;
import dev.cellar.storage.LocalStorage;
import dev.cellar.testing.CliRun;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.TestConfig;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The base-backup job against real clusters, through the command line. */
class BaseBackupIT {

    @TempDir
    Path dir;

    private Path configure(PostgresCluster pg) throws Exception {
        Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
        return TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
    }

    private CliRun cellar(Path config, String... args) {
        return CliRun.withConfig(dir, config, args);
    }

    private LocalStorage repo() {
        return new LocalStorage(dir.resolve("repo"));
    }

    private List<String> compareWithCluster(BackupInfo info, PostgresCluster pg) throws Exception {
        return BackupVerification.differingFiles(repo(), info, pg.dataDir());
    }

    @Test
    void fullThenIncrementalBackupsReproduceTheClusterAndTheIncrementalStoresOnlyChanges() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            pg.execute("CREATE TABLE accounts (id int PRIMARY KEY, balance int, filler text)",
                    "INSERT INTO accounts SELECT g, 0, repeat(md5(g::text), 4) FROM generate_series(1, 200000) g",
                    "CREATE UNLOGGED TABLE scratch AS SELECT g FROM generate_series(1, 10000) g",
                    "CREATE TABLE archive AS SELECT g AS id, repeat(md5(g::text), 4) AS filler FROM generate_series(1, 150000) g",
                    "VACUUM (FREEZE) archive",
                    "CHECKPOINT");
            Thread.sleep(1100); // files older than the first backup's start (by more than timestamp granularity) can be reused unread
            Path config = configure(pg);

            CliRun full = cellar(config, "backup", "main");
            assertThat(full.exitCode()).as(full.toString()).isZero();
            assertThat(full.out()).contains("status:   COMPLETED").contains("base-backup.copy-files").contains("Type:").contains("full");

            assertThat(dir.resolve("repo/main/locks/backup.json")).as("the backup lock is released").doesNotExist();
            CliRun list = cellar(config, "--json", "list-backups", "main");
            assertThat(list.exitCode()).as(list.toString()).isZero();
            JsonNode backups = new ObjectMapper().readTree(list.out());
            assertThat(backups).as(list.toString()).hasSize(1);
            BackupInfo first = BackupInfo.read(repo(), "main", backups.get(0).get("id").asText()).orElseThrow();
            assertThat(first.type()).isEqualTo("full");
            assertThat(first.backupLabel()).contains("START WAL LOCATION: " + first.startLsn());
            assertThat(first.beginWal()).matches("[0-9A-F]{24}");
            assertThat(first.pageChecksumFailures()).isZero();
            Manifest firstManifest = first.manifest(repo());
            // excluded like pg_basebackup: pg_wal contents, postmaster.pid, unlogged main forks; kept: their directories and init forks
            assertThat(firstManifest.byPath()).containsKeys("pg_wal", "pg_wal/archive_status", "global/pg_control", "PG_VERSION");
            assertThat(firstManifest.byPath().keySet()).noneMatch(p -> p.startsWith("pg_wal/0") || p.equals("postmaster.pid"));
            String scratch = relationPath(pg, "scratch");
            assertThat(firstManifest.byPath()).containsKey(scratch + "_init").doesNotContainKey(scratch);

            // With no writes, only pg_control may differ: the backup's own checkpoint and stop update it after the copy.
            assertThat(compareWithCluster(first, pg)).isSubsetOf("global/pg_control");

            pg.execute("UPDATE accounts SET balance = balance + 1 WHERE id BETWEEN 1000 AND 1100",
                    "INSERT INTO accounts SELECT g, 0, 'new' FROM generate_series(200001, 200500) g", "CHECKPOINT");
            CliRun incr = cellar(config, "backup", "main");
            assertThat(incr.exitCode()).as(incr.toString()).isZero();
            BackupInfo second = BackupInfo.read(repo(), "main",
                    new ObjectMapper().readTree(cellar(config, "--json", "show-backup", "main", "latest").out()).get("id").asText()).orElseThrow();
            assertThat(second.type()).isEqualTo("incremental");
            assertThat(second.parent()).isEqualTo(first.id());
            // A few changed pages out of tens of MB: the incremental stores a small fraction of the full.
            assertThat(second.storedBytes()).isLessThan(first.storedBytes() / 5);
            // Files unchanged in size and mtime since before the parent started are not read at all.
            JsonNode copyStats = new ObjectMapper().readTree(cellar(config, "--json", "jobs", "list", "--job", "base-backup").out()).get(0);
            String stats = new ObjectMapper().readTree(cellar(config, "--json", "jobs", "show", copyStats.get("id").asText()).out())
                    .get("context").get("base-backup.copy-stats").asText();
            long bytesRead = Long.parseLong(stats.split(",")[0]);
            long archiveBytes = Files.size(pg.dataDir().resolve(relationPath(pg, "archive")));
            assertThat(archiveBytes).isGreaterThan(20L << 20);
            assertThat(bytesRead).as(stats).isLessThanOrEqualTo(second.sizeBytes() - archiveBytes);
            assertThat(compareWithCluster(second, pg)).isSubsetOf("global/pg_control");

            CliRun text = cellar(config, "list-backups", "main");
            assertThat(text.out()).contains(first.id()).contains(second.id()).contains("incremental").contains("DONE");

            // delete: the full backup holds blocks the incremental references
            CliRun refused = cellar(config, "delete", "main", first.id());
            assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(6);
            assertThat(refused.err()).contains("backup " + second.id() + " is an incremental on top of backup " + first.id() + "; delete " + second.id() + " first");
            CliRun deleted = cellar(config, "delete", "main", second.id());
            assertThat(deleted.exitCode()).as(deleted.toString()).isZero();
            assertThat(deleted.out()).contains("Deleted backup " + second.id());
            assertThat(dir.resolve("repo/main/backups/" + second.id())).doesNotExist();
            assertThat(new ObjectMapper().readTree(cellar(config, "--json", "list-backups", "main").out())).hasSize(1);
            // The full still reads back whole (every frame, block and file checksum verified); files untouched
            // since it was taken still equal the cluster's.
            assertThat(compareWithCluster(first, pg)).doesNotContain("PG_VERSION", relationPath(pg, "archive"));
            CliRun keepOne = CliRun.run(Map.of("CELLAR_SERVERS_MAIN_MINIMUM_REDUNDANCY", "1"), dir,
                    "--config", config.toString(), "delete", "main", first.id());
            assertThat(keepOne.exitCode()).isEqualTo(6);
            assertThat(keepOne.err()).contains("fewer than its minimum-redundancy of 1");
            assertThat(cellar(config, "delete", "main", "20000101T000000").exitCode()).isEqualTo(4);
        }
    }

    @Test
    void aClusterWithAnotherSystemIdentifierIsRefusedAndNothingBecomesVisible() throws Exception {
        Path config;
        try (PostgresCluster pg = PostgresCluster.start()) {
            config = configure(pg);
            assertThat(cellar(config, "backup", "main").exitCode()).isZero();
        }
        try (PostgresCluster other = PostgresCluster.start(PostgresCluster.Spec.defaults().freshInitdb())) {
            Path passfile = other.writePassfile(dir.resolve("pgpass"), Map.of("postgres", other.password()));
            TestConfig.write(dir, other, "postgres", passfile, dir.resolve("repo").toUri().toString());
            CliRun run = cellar(config, "backup", "main");
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(1);
            assertThat(run.out()).contains("status:   FAILED").contains("refusing to back up server main: system identifier");
            assertThat(new ObjectMapper().readTree(cellar(config, "--json", "list-backups", "main").out())).hasSize(1);
        }
    }

    @Test
    void tablespacesAreBackedUpThroughTheirLinks() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            Path location = java.nio.file.Files.createDirectories(pg.base().resolve("tblspc"));
            dev.cellar.testing.OsProcess.chownToPostgres(location);
            pg.execute("CREATE TABLESPACE outside LOCATION '" + location + "'",
                    "CREATE TABLE elsewhere TABLESPACE outside AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g",
                    "CHECKPOINT");
            String oid;
            try (var c = pg.connect(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT oid FROM pg_tablespace WHERE spcname = 'outside'")) {
                rs.next();
                oid = rs.getString(1);
            }
            Path config = configure(pg);
            CliRun run = cellar(config, "backup", "main");
            assertThat(run.exitCode()).as(run.toString()).isZero();
            BackupInfo info = BackupInfo.read(repo(), "main",
                    new ObjectMapper().readTree(cellar(config, "--json", "show-backup", "main", "latest").out()).get("id").asText()).orElseThrow();
            Manifest m = info.manifest(repo());
            ManifestEntry link = m.entry("pg_tblspc/" + oid);
            assertThat(link.type()).isEqualTo(ManifestEntry.Type.LINK);
            assertThat(link.linkTarget()).isEqualTo(location.toString());
            String table = relationPath(pg, "elsewhere");   // pg_tblspc/<oid>/PG_15_.../<db>/<relfilenode>
            assertThat(table).startsWith("pg_tblspc/" + oid + "/");
            ManifestEntry heap = m.entry(table);
            assertThat(heap).isNotNull();
            assertThat(heap.size()).isGreaterThan(1 << 20);
            assertThat(info.tablespaceMap()).contains(oid + " " + location);
            assertThat(compareWithCluster(info, pg)).isSubsetOf("global/pg_control");
        }
    }

    @Test
    void aCorruptPageIsDetectedAndRecorded() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            pg.execute("CREATE TABLE victim AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 5000) g", "CHECKPOINT");
            String file = relationPath(pg, "victim");
            pg.stop();
            // Flip a byte in the data area of page 3, leaving its checksum as it was.
            try (RandomAccessFile f = new RandomAccessFile(pg.dataDir().resolve(file).toFile(), "rw")) {
                f.seek(3L * PageChecksum.BLCKSZ + 4000);
                int b = f.read();
                f.seek(3L * PageChecksum.BLCKSZ + 4000);
                f.write(b ^ 0x55);
            }
            pg.startAgain();
            Path config = configure(pg);

            // page-checksum-failure: fail (here from the environment): the backup fails naming the page, nothing is committed
            CliRun strict = CliRun.run(Map.of("CELLAR_SERVERS_MAIN_PAGE_CHECKSUM_FAILURE", "fail"), dir,
                    "--config", config.toString(), "backup", "main");
            assertThat(strict.exitCode()).as(strict.toString()).isEqualTo(1);
            assertThat(strict.out()).contains("1 pages failed their data checksum (page-checksum-failure: fail): " + file + " pages [3]");
            assertThat(new ObjectMapper().readTree(cellar(config, "--json", "list-backups", "main").out())).isEmpty();

            // warn (the default): the same backup is restarted, completes, and records the page
            CliRun run = cellar(config, "backup", "main");
            assertThat(run.exitCode()).as(run.toString()).isZero();
            BackupInfo info = BackupInfo.read(repo(), "main",
                    new ObjectMapper().readTree(cellar(config, "--json", "show-backup", "main", "latest").out()).get("id").asText()).orElseThrow();
            assertThat(info.pageChecksumFailures()).isEqualTo(1);
            assertThat(info.manifest(repo()).entry(file).pageFailures()).containsExactly(3L);
            assertThat(cellar(config, "show-backup", "main", "latest").out()).containsPattern("Page checksum failures:\\s+1");
        }
    }

    private static String relationPath(PostgresCluster pg, String table) throws Exception {
        try (var c = pg.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_relation_filepath('" + table + "')")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
