package dev.cellar.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.testing.CliRun;
import dev.cellar.testing.PostgresBinaries;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.TestConfig;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code cellar check} with a least-privilege role on the oldest supported major (13: pg_start_backup)
 * and a newer one than the machine's (17), using zonky's binaries fetched by the build.
 */
class CheckOtherMajorsIT {

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(ints = {13, 17})
    void theShippedGrantsAreEnoughOnEveryMajor(int major) throws Exception {
        PostgresBinaries binaries = PostgresBinaries.zonky(major)
                .orElseThrow(() -> new AssertionError("PostgreSQL " + major + " binaries missing from target/pg-binaries; run through mvn verify"));
        try (PostgresCluster pg = PostgresCluster.start(PostgresCluster.Spec.defaults().binaries(binaries))) {
            pg.execute("CREATE ROLE cellar LOGIN PASSWORD 'backup-pw'");
            pg.psqlFile(Path.of("sql/postgres/backup-role.sql"), "cellar_role=cellar");
            Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("cellar", "backup-pw"));
            Path config = TestConfig.write(dir, pg, "cellar", passfile, TestConfig.fileRepository(dir));

            CliRun run = CliRun.run(dir, "--config", config.toString(), "check", "main");
            assertThat(run.exitCode()).as(run.toString()).isZero();
            assertThat(run.out()).contains("PostgreSQL " + major + ".").contains("major " + major);
            assertThat(run.out().lines().filter(l -> l.trim().startsWith("backup-privileges:")).findFirst()).get().asString().contains("granted");
        }
    }
}
