package dev.cellar.jobs;

import javax.sql.DataSource;
import org.springframework.batch.core.configuration.support.JdbcDefaultBatchConfiguration;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * Spring Batch on the catalog: the JDBC job repository (tables {@code BATCH_*}, created by {@link JobRepositorySchema}),
 * the job operator (jobs run on the calling thread), the step and job scopes. Spring Batch's defaults, which are what
 * Spring Boot's batch auto-configuration applies when no property changes them; declared here so that every context
 * (the command line's plain one and {@code cellar serve}'s Boot one, where this configuration makes Boot's back off)
 * uses the same repository settings.
 */
@Configuration(proxyBeanMethods = false)
public class CatalogBatchConfiguration extends JdbcDefaultBatchConfiguration {

    private final DataSource catalog;
    private final PlatformTransactionManager transactionManager;

    public CatalogBatchConfiguration(DataSource catalog, PlatformTransactionManager transactionManager) {
        this.catalog = catalog;
        this.transactionManager = transactionManager;
    }

    @Override
    protected DataSource getDataSource() {
        return catalog;
    }

    @Override
    protected PlatformTransactionManager getTransactionManager() {
        return transactionManager;
    }
}
