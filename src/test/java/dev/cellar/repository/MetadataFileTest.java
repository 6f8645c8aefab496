package dev.cellar.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cellar.storage.LocalStorage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetadataFileTest {

    @TempDir
    Path dir;

    LocalStorage storage;
    final ServerIdentity identity = new ServerIdentity("7312345678901234567", 15, 16L * 1024 * 1024);

    @BeforeEach
    void setUp() {
        storage = new LocalStorage(dir);
    }

    @Test
    void bothCopiesAreWrittenAndReadBack() throws Exception {
        identity.write(storage, "main");
        assertThat(dir.resolve("main/server.json")).exists();
        assertThat(dir.resolve("main/server.json.copy")).exists();
        assertThat(ServerIdentity.read(storage, "main")).contains(identity);
        assertThat(Files.readString(dir.resolve("main/server.json"))).contains("\"format\" : 1").contains("\"checksum\" : \"sha256:");
    }

    @Test
    void nothingWrittenReadsAsEmpty() throws Exception {
        assertThat(ServerIdentity.read(storage, "main")).isEmpty();
    }

    @Test
    void aDamagedFirstCopyFallsBackToTheSecond() throws Exception {
        identity.write(storage, "main");
        Path first = dir.resolve("main/server.json");
        Files.writeString(first, Files.readString(first).replace("7312345678901234567", "7312345678901234568"));
        assertThat(ServerIdentity.read(storage, "main")).contains(identity);
        Files.writeString(first, "{ truncated");
        assertThat(ServerIdentity.read(storage, "main")).contains(identity);
        Files.delete(first);
        assertThat(ServerIdentity.read(storage, "main")).contains(identity);
    }

    @Test
    void whenNeitherCopyVerifiesTheReadFailsNamingBoth() throws Exception {
        identity.write(storage, "main");
        for (String name : new String[] {"server.json", "server.json.copy"}) {
            Path p = dir.resolve("main").resolve(name);
            Files.writeString(p, Files.readString(p).replace("\"pg-major\" : 15", "\"pg-major\" : 16"));
        }
        assertThatThrownBy(() -> ServerIdentity.read(storage, "main"))
                .isInstanceOf(RepositoryFormatException.class)
                .hasMessageContaining("main/server.json: checksum mismatch")
                .hasMessageContaining("main/server.json.copy: checksum mismatch");
    }

    @Test
    void aNewerFormatIsRefusedWithAnUpgradeHint() throws Exception {
        identity.write(storage, "main");
        Path p = dir.resolve("main/server.json");
        Files.writeString(p, Files.readString(p).replace("\"format\" : 1", "\"format\" : 2"));
        assertThatThrownBy(() -> ServerIdentity.read(storage, "main"))
                .isInstanceOf(RepositoryFormatException.class)
                .hasMessageContaining("has repository format 2; this Cellar reads format 1 (upgrade Cellar)");
    }

    @Test
    void theChecksumIgnoresKeyOrderAndWhitespace() throws Exception {
        identity.write(storage, "main");
        Path p = dir.resolve("main/server.json");
        String reordered = new String(Files.readAllBytes(p), StandardCharsets.UTF_8).replace("\n", " ");
        Files.writeString(p, reordered);
        Files.delete(dir.resolve("main/server.json.copy"));
        assertThat(ServerIdentity.read(storage, "main")).contains(identity);
    }

    @Test
    void mismatchesAreDescribed() {
        assertThat(identity.mismatch(identity)).isEmpty();
        assertThat(identity.mismatch(new ServerIdentity("1", 15, 16L << 20))).contains("system identifier 1 differs from the repository's 7312345678901234567");
        assertThat(identity.mismatch(new ServerIdentity(identity.systemIdentifier(), 17, 16L << 20))).contains("PostgreSQL major 17 differs from the repository's 15");
        assertThat(identity.mismatch(new ServerIdentity(identity.systemIdentifier(), 15, 64L << 20))).get().asString().contains("WAL segment size");
    }
}
