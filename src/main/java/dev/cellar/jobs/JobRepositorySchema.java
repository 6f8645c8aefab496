package dev.cellar.jobs;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;
import javax.sql.DataSource;
import org.springframework.core.io.ClassPathResource;
import org.springframework.jdbc.datasource.init.ResourceDatabasePopulator;

/**
 * Creates the catalog's tables when they are missing: Spring Batch's job repository and Quartz's
 * job store, from the scripts those libraries ship, then Cellar's own tables
 * ({@link dev.cellar.catalog.CatalogSchema}). Runs the scripts once, not at every start
 * (Boot's {@code initialize-schema=always} re-runs them and relies on ignoring errors), so a
 * read-only verb pays one metadata query.
 */
public final class JobRepositorySchema {

    private JobRepositorySchema() {
    }

    public static void ensure(DataSource dataSource) {
        try (Connection c = dataSource.getConnection()) {
            String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
            boolean postgres = product.contains("postgres");
            if (!product.contains("h2") && !postgres) {
                throw new IllegalStateException("unsupported catalog database: " + product + " (H2 or PostgreSQL)");
            }
            if (!dev.cellar.catalog.CatalogSchema.tableExists(c, "BATCH_JOB_INSTANCE")) {
                run(c, "org/springframework/batch/core/schema-" + (postgres ? "postgresql" : "h2") + ".sql");
            }
            if (!dev.cellar.catalog.CatalogSchema.tableExists(c, "QRTZ_LOCKS")) {
                run(c, "org/quartz/impl/jdbcjobstore/tables_" + (postgres ? "postgres" : "h2") + ".sql");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot prepare the catalog database: " + e.getMessage(), e);
        }
        dev.cellar.catalog.CatalogSchema.ensure(dataSource);
    }


    private static void run(Connection c, String script) {
        ResourceDatabasePopulator populator = new ResourceDatabasePopulator(new ClassPathResource(script));
        populator.setContinueOnError(false);
        populator.populate(c);
    }
}
