package dev.cellar.jobs;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.cellar.config.CellarSettings;
import dev.cellar.postgres.PostgresConnector;
import javax.sql.DataSource;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ComponentScan;

/**
 * The Spring context of the job-running verbs: Spring Batch with its JDBC job repository on the
 * catalog database. Quartz is left out here; only {@code cellar serve} starts a scheduler.
 * Every job configuration lives under {@code dev.cellar.jobs} and is found by the scan.
 */
@SpringBootConfiguration
@EnableAutoConfiguration(excludeName = {
        "org.springframework.boot.quartz.autoconfigure.QuartzAutoConfiguration",
        "org.springframework.boot.quartz.autoconfigure.QuartzEndpointAutoConfiguration"})
@ComponentScan(basePackageClasses = CellarJobsApplication.class)
public class CellarJobsApplication {

    @Bean(destroyMethod = "close")
    public DataSource catalogDataSource(CellarSettings settings) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(settings.catalog().url());
        if (settings.catalog().isPostgres()) {
            // The same password rules as for a server: PGPASSWORD, passfile, PGPASSFILE, ~/.pgpass.
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
        config.setMaximumPoolSize(8);
        config.setMinimumIdle(1);
        HikariDataSource ds = new HikariDataSource(config);
        JobRepositorySchema.ensure(ds);
        return ds;
    }
}
