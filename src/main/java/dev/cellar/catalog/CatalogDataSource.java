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

    /**
     * The URL the pool opens. An H2 file catalog is opened through H2's {@code retry:} file system:
     * H2 closes a database whose file channel a thread interrupt closed, and Quartz interrupts its
     * scheduler thread when {@code cellar serve} stops; ServeIT saw that thread then retry forever on
     * a closed catalog. The file is the same ({@code <path>.mv.db}).
     */
    public static String jdbcUrl(String configured) {
        if (configured.startsWith("jdbc:h2:file:")) {
            return "jdbc:h2:retry:file:" + configured.substring("jdbc:h2:file:".length());
        }
        return configured;
    }

    public static HikariDataSource open(CellarSettings settings, int maximumPoolSize) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl(settings.catalog().url()));
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
