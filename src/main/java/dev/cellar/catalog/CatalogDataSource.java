package dev.cellar.catalog;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.cellar.config.CellarSettings;
import dev.cellar.postgres.PostgresConnector;

/**
 * A connection pool on the catalog database ({@code cellar.catalog}), with the same password rules
 * as a server: PGPASSWORD, {@code passfile}, PGPASSFILE, ~/.pgpass. The job context uses one; so does
 * the audit log of verbs that start no job context ({@code delete}, {@code keep}, {@code jobs audit}).
 */
public final class CatalogDataSource {

    private CatalogDataSource() {
    }

    public static HikariDataSource open(CellarSettings settings, int maximumPoolSize) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(settings.catalog().url());
        if (settings.catalog().isPostgres()) {
            PostgresConnector connector = PostgresConnector.fromProcess();
            PostgresConnector.Target target = connector.target(settings.catalog().url());
            String user = settings.catalog().user() != null ? settings.catalog().user() : target.user();
            config.setUsername(user);
            connector.password(new PostgresConnector.Target(target.host(), target.port(), target.database(), user),
                    settings.catalog().passfilePath()).ifPresent(config::setPassword);
        } else if (settings.catalog().user() != null) {
            config.setUsername(settings.catalog().user());
        }
        config.setPoolName("cellar-catalog");
        config.setMaximumPoolSize(maximumPoolSize);
        config.setMinimumIdle(1);
        return new HikariDataSource(config);
    }
}
