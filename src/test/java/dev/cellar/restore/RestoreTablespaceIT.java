package dev.cellar.restore;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cellar.storage.LocalStorage;
import dev.cellar.testing.CliRun;
import dev.cellar.testing.OsProcess;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.TestConfig;
import dev.cellar.wal.WalArchive;
import dev.cellar.wal.WalFileName;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tablespace restored elsewhere with --tablespace OID=PATH; get-wal for a fetching restore_command. */
class RestoreTablespaceIT {

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

    private static String scalar(PostgresCluster pg, String sql) throws Exception {
        try (Connection c = pg.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void aTablespaceIsRestoredWhereTheOperatorSaysAndNeverOntoTheLiveOne() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            // pg_wal moved out of the data directory (initdb -X style): a restore must never point at it.
            pg.stop();
            Path liveWal = pg.base().resolve("live-wal");
            Files.move(pg.dataDir().resolve("pg_wal"), liveWal);
            Files.createSymbolicLink(pg.dataDir().resolve("pg_wal"), liveWal);
            OsProcess.chownToPostgres(pg.base());
            pg.startAgain();
            Path tablespace = Files.createDirectories(pg.base().resolve("tablespace"));
            OsProcess.chownToPostgres(tablespace);
            pg.execute("CREATE TABLESPACE archive_space LOCATION '" + tablespace + "'",
                    "CREATE TABLE archived (id int, note text) TABLESPACE archive_space",
                    "INSERT INTO archived SELECT g, md5(g::text) FROM generate_series(1, 30000) g");
            String oid = scalar(pg, "SELECT oid FROM pg_tablespace WHERE spcname = 'archive_space'");
            Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
            config = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
            assertThat(cellar("backup", "main", "--wait").exitCode()).isZero();
            assertThat(cellar("archive-wal", "main").exitCode()).isZero();

            Path base = PostgresCluster.newBase();
            try {
                Path dest = base.resolve("data");
                CliRun onLive = cellar("recover", "main", "latest", dest.toString(), "--target-immediate");
                assertThat(onLive.exitCode()).as(onLive.toString()).isEqualTo(6);
                assertThat(onLive.err()).contains("tablespace " + oid + " would be restored into " + tablespace
                        + ", the live cluster's tablespace; move it with --tablespace " + oid + "=PATH");
                CliRun unknown = cellar("recover", "main", "latest", dest.toString(), "--target-immediate", "--tablespace", "1=/tmp/x");
                assertThat(unknown.exitCode()).as(unknown.toString()).isEqualTo(6);
                assertThat(unknown.err()).contains("--tablespace 1=...: the backup has no tablespace 1 (it has [" + oid + "])");
                assertThat(dest).doesNotExist();

                Path moved = base.resolve("moved-tablespace");
                CliRun r = cellar("recover", "main", "latest", dest.toString(), "--target-immediate", "--target-action", "promote",
                        "--tablespace", oid + "=" + moved);
                assertThat(r.exitCode()).as(r.toString()).isZero();
                assertThat(Files.readSymbolicLink(dest.resolve("pg_tblspc/" + oid))).isEqualTo(moved);
                assertThat(Files.list(moved).toList()).as("the tablespace's version directory").hasSize(1);
                assertThat(Files.isSymbolicLink(dest.resolve("pg_wal"))).as("pg_wal is DEST's own, not the live one").isFalse();
                assertThat(dest.resolve("pg_wal/archive_status")).isDirectory();
                List<String> liveFiles;
                try (var s = Files.list(liveWal)) {
                    liveFiles = s.map(p -> p.getFileName().toString()).sorted().toList();
                }
                assertThat(liveFiles).anyMatch(n -> n.matches("[0-9A-F]{24}"));
                CliRun delta = cellar("recover", "main", "latest", dest.toString(), "--target-immediate", "--target-action", "promote",
                        "--tablespace", oid + "=" + moved, "--delta");
                assertThat(delta.exitCode()).as(delta.toString()).isZero();
                try (var s = Files.list(liveWal)) {
                    assertThat(s.map(p -> p.getFileName().toString()).sorted().toList()).as("the live pg_wal is untouched").containsAll(liveFiles);
                }
                try (PostgresCluster restored = PostgresCluster.adopt(pg.binaries(), base, pg.password())) {
                    base = null;
                    restored.awaitPromoted(120);
                    assertThat(scalar(restored, "SELECT count(*) FROM archived")).isEqualTo("30000");
                    assertThat(scalar(restored, "SELECT pg_tablespace_location(" + oid + ")")).isEqualTo(moved.toString());
                }
            } finally {
                if (base != null) {
                    OsProcess.deleteTree(base);
                }
            }

            // get-wal: one archived segment, decompressed and verified; an absent one is exit 4.
            JsonNode backup = new ObjectMapper().readTree(cellar("--json", "show-backup", "main", "latest").out());
            String segment = backup.get("beginWal").asText();
            Path fetched = dir.resolve("fetched");
            CliRun get = cellar("get-wal", "main", segment, fetched.toString());
            assertThat(get.exitCode()).as(get.toString()).isZero();
            assertThat(Files.readAllBytes(fetched)).isEqualTo(new WalArchive(new LocalStorage(dir.resolve("repo")), "main", 3)
                    .read(WalFileName.parse(segment).orElseThrow()));
            CliRun absent = cellar("get-wal", "main", "0000000100000000000000FF", dir.resolve("absent").toString());
            assertThat(absent.exitCode()).as(absent.toString()).isEqualTo(4);
            assertThat(absent.err()).contains("WAL file 0000000100000000000000FF of server main is not in the archive");
            assertThat(dir.resolve("absent")).doesNotExist();
        }
    }
}
