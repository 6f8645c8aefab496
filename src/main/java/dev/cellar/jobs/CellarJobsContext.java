package dev.cellar.jobs;

import javax.sql.DataSource;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ComponentScan;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.FilterType;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * The job context every verb that runs jobs starts: the catalog, its transaction manager, Spring Batch on them
 * ({@link CatalogBatchConfiguration}), and every job configuration under {@code dev.cellar.jobs}, found by the scan.
 * The command line starts it as a plain Spring context; {@code cellar serve} starts it inside its Spring Boot
 * application ({@link CellarJobsApplication}), which adds the scheduler and the web server.
 */
@Configuration(proxyBeanMethods = false)
@ComponentScan(basePackageClasses = CellarJobsContext.class,
        excludeFilters = @ComponentScan.Filter(type = FilterType.ASSIGNABLE_TYPE, classes = CellarJobsApplication.class))
@Import(CatalogBatchConfiguration.class)
public class CellarJobsContext {

    /** The catalog, opened (and its job repository schema checked) beside the context's start: {@link CatalogOpening}. */
    @Bean(destroyMethod = "close")
    public DataSource catalogDataSource(CatalogOpening opening) {
        return opening.dataSource();
    }

    /** What Spring Boot's JDBC auto-configuration would create on the catalog. */
    @Bean
    public PlatformTransactionManager transactionManager(DataSource catalogDataSource) {
        return new JdbcTransactionManager(catalogDataSource);
    }
}
