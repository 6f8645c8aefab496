package dev.cellar.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the job repository (Spring Batch tables, Quartz tables, Cellar's own tables) lives.
 * An H2 file under {@code cellar.home} by default, or a PostgreSQL database, whose password comes
 * from PGPASSWORD, {@code passfile}, PGPASSFILE or ~/.pgpass like a server's.
 */
public record CatalogSettings(String url, String user, Path passfile) {

    public boolean isPostgres() {
        return url.startsWith("jdbc:postgresql:");
    }

    public Optional<Path> passfilePath() {
        return Optional.ofNullable(passfile);
    }
}
