package dev.cellar.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.PostgresClusterExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Our page checksum against pages a real PostgreSQL (data checksums on) wrote to disk. */
@ExtendWith(PostgresClusterExtension.class)
class PageChecksumIT {

    private static final int BLCKSZ = PageChecksum.BLCKSZ;

    @Test
    void everyPageWrittenByPostgresVerifies(PostgresCluster pg) throws Exception {
        assertThat(query(pg, "SHOW data_checksums")).isEqualTo("on");
        assertThat(query(pg, "SHOW block_size")).isEqualTo("8192");
        pg.execute(
                "CREATE TABLE t (id int PRIMARY KEY, payload text) WITH (autovacuum_enabled = off)",
                "INSERT INTO t SELECT g, md5(g::text) || repeat('x', g % 50) FROM generate_series(1, 20000) g",
                "DELETE FROM t WHERE id % 7 = 0",
                "VACUUM (FREEZE) t",
                "CHECKPOINT");

        int nonNewPages = 0;
        List<String> forks = new ArrayList<>();
        for (String relation : List.of("t", "t_pkey")) {
            String path = query(pg, "SELECT pg_relation_filepath('" + relation + "')");
            for (String suffix : List.of("", "_fsm", "_vm")) {
                Path file = pg.dataDir().resolve(path + suffix);
                if (!Files.exists(file)) {
                    continue;
                }
                forks.add(relation + suffix);
                byte[] data = Files.readAllBytes(file);
                assertThat(data.length % BLCKSZ).as("%s is whole pages", file).isZero();
                for (int block = 0; block < data.length / BLCKSZ; block++) {
                    int offset = block * BLCKSZ;
                    long blkno = PageChecksum.blockNumber(0, block);
                    assertThat(PageChecksum.verify(data, offset, blkno)).as("%s block %d verifies", relation + suffix, block).isTrue();
                    if (!PageChecksum.isNew(data, offset)) {
                        nonNewPages++;
                        assertThat(PageChecksum.compute(data, offset, blkno)).as("%s block %d checksum", relation + suffix, block)
                                .isEqualTo(PageChecksum.stored(data, offset));
                    }
                }
            }
        }
        assertThat(forks).contains("t", "t_fsm", "t_vm", "t_pkey");
        assertThat(nonNewPages).isGreaterThan(100);
    }

    @Test
    void aCorruptedPageOrAPageAtTheWrongBlockFailsVerification(PostgresCluster pg) throws Exception {
        pg.execute(
                "CREATE TABLE c (id int, payload text) WITH (autovacuum_enabled = off)",
                "INSERT INTO c SELECT g, md5(g::text) FROM generate_series(1, 20000) g",
                "VACUUM (FREEZE) c",
                "CHECKPOINT");
        byte[] data = Files.readAllBytes(pg.dataDir().resolve(query(pg, "SELECT pg_relation_filepath('c')")));
        int pages = data.length / BLCKSZ;
        assertThat(pages).isGreaterThan(100);

        int block = pages / 2;
        byte[] page = new byte[BLCKSZ];
        System.arraycopy(data, block * BLCKSZ, page, 0, BLCKSZ);
        assertThat(PageChecksum.isNew(page, 0)).isFalse();
        assertThat(PageChecksum.verify(page, 0, block)).isTrue();

        byte[] corrupt = page.clone();
        corrupt[BLCKSZ - 100] ^= 0x20; // inside the tuple data at the end of the page
        assertThat(PageChecksum.verify(corrupt, 0, block)).isFalse();

        byte[] header = page.clone();
        header[0] ^= 0x01; // pd_lsn
        assertThat(PageChecksum.verify(header, 0, block)).isFalse();

        // pages read at the wrong block number (transposed) fail; a chance 1/65535 collision per page is tolerated
        int verifiedElsewhere = 0;
        for (int b = 0; b < pages; b++) {
            if (PageChecksum.verify(data, b * BLCKSZ, b + 1)) {
                verifiedElsewhere++;
            }
        }
        assertThat(verifiedElsewhere).isLessThanOrEqualTo(2);
    }

    private static String query(PostgresCluster pg, String sql) throws Exception {
        try (Connection c = pg.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
