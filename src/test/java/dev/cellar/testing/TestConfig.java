package dev.cellar.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a cellar.yaml for one server backed by a harness cluster. */
public final class TestConfig {

    private TestConfig() {
    }

    /**
     * A configuration with home and repository under {@code dir} and server {@code main} pointing at
     * the cluster as {@code user}, whose password is looked up in {@code passfile}.
     */
    public static Path write(Path dir, PostgresCluster cluster, String user, Path passfile, String repositoryUri) throws IOException {
        String yaml = """
                cellar:
                  home: %s
                  repository: %s
                  servers:
                    main:
                      conninfo: "%s"
                      passfile: %s
                      pgdata: %s
                      wal-spool: %s
                """.formatted(dir.resolve("home"), repositoryUri, cluster.jdbcUrl(user), passfile, cluster.dataDir(), cluster.spool());
        Path file = dir.resolve("cellar.yaml");
        Files.writeString(file, yaml);
        return file;
    }

    public static String fileRepository(Path dir) throws IOException {
        return Files.createDirectories(dir.resolve("repo")).toUri().toString();
    }
}
