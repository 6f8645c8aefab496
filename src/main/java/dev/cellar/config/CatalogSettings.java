package dev.cellar.config;

/**
 * Where the job repository (Spring Batch tables, Quartz tables, Cellar's own tables) lives.
 * An H2 file under {@code cellar.home} by default, or a PostgreSQL database.
 */
public record CatalogSettings(String url, String user) {

    public boolean isPostgres() {
        return url.startsWith("jdbc:postgresql:");
    }
}
