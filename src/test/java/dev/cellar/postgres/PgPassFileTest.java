package dev.cellar.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PgPassFileTest {

    @TempDir
    Path dir;

    @Test
    void theFirstMatchingLineWinsWithWildcardsAndEscapes() throws Exception {
        Path f = Files.writeString(dir.resolve("pgpass"), """
                # comment
                db1:5432:postgres:cellar:first
                db1:*:*:cellar:second
                *:*:*:other:pa\\:ss\\\\word
                localhost:5433:*:local:loc
                malformed:line
                """);
        PgPassFile p = PgPassFile.read(f);
        assertThat(p.password("db1", 5432, "postgres", "cellar")).contains("first");
        assertThat(p.password("db1", 6000, "app", "cellar")).contains("second");
        assertThat(p.password("anywhere", 1, "x", "other")).contains("pa:ss\\word");
        assertThat(p.password("127.0.0.1", 5433, "x", "local")).contains("loc");
        assertThat(p.password("db2", 5432, "postgres", "cellar")).isEmpty();
    }

    @Test
    void aMissingFileHasNoEntries() {
        assertThat(PgPassFile.read(dir.resolve("absent")).password("h", 1, "d", "u")).isEmpty();
    }

    @Test
    void passwordsAreLookedUpInLibpqOrder() throws Exception {
        Path serverFile = Files.writeString(dir.resolve("server-pgpass"), "db1:5432:*:cellar:from-server-file\n");
        Files.writeString(dir.resolve(".pgpass"), "db1:5432:*:cellar:from-home\n*:*:*:u2:home-only\n");
        String url = "jdbc:postgresql://db1:5432/postgres?user=cellar";

        PostgresConnector plain = new PostgresConnector(Map.of(), dir);
        PostgresConnector.Target t = plain.target(url);
        assertThat(t).isEqualTo(new PostgresConnector.Target("db1", 5432, "postgres", "cellar"));
        assertThat(plain.password(t, Optional.of(serverFile))).contains("from-server-file");
        assertThat(plain.password(t, Optional.empty())).contains("from-home");
        assertThat(new PostgresConnector(Map.of("PGPASSWORD", "from-env"), dir).password(t, Optional.of(serverFile))).contains("from-env");
        assertThat(new PostgresConnector(Map.of("PGPASSFILE", serverFile.toString()), dir).password(t, Optional.empty())).contains("from-server-file");
        PostgresConnector.Target other = plain.target("jdbc:postgresql://db9/app?user=u2");
        assertThat(other.port()).isEqualTo(5432);
        assertThat(plain.password(other, Optional.of(serverFile))).contains("home-only");
    }
}
