package dev.cellar.schedule;

import dev.cellar.config.CellarSettings;
import java.util.Properties;
import javax.sql.DataSource;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.scheduling.quartz.SchedulerFactoryBean;
import org.springframework.scheduling.quartz.SpringBeanJobFactory;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * Quartz for {@code cellar serve}: the JDBC job store in the catalog (the QRTZ_ tables that
 * {@code JobRepositorySchema} creates), clustered when the catalog is PostgreSQL so that several
 * nodes share the schedules and each firing runs on one node only. The scheduler is started by
 * {@link ServeDaemon} once the schedules are in place, not by the context.
 */
@Configuration(proxyBeanMethods = false)
public class SchedulerConfiguration {

    /** The Quartz scheduler name: every node of a cluster shares it. */
    public static final String SCHEDULER_NAME = "cellar";

    @Bean
    public SchedulerFactoryBean cellarScheduler(DataSource catalogDataSource, PlatformTransactionManager transactionManager,
                                                CellarSettings settings, ApplicationContext context) {
        SchedulerFactoryBean factory = new SchedulerFactoryBean();
        factory.setSchedulerName(SCHEDULER_NAME);
        factory.setDataSource(catalogDataSource);
        factory.setTransactionManager(transactionManager);
        SpringBeanJobFactory jobFactory = new SpringBeanJobFactory();
        jobFactory.setApplicationContext(context);
        factory.setJobFactory(jobFactory);
        // Clustered, each node has its own ID (host:pid:start). Alone on an H2 catalog (ServeDaemon
        // allows one serve per catalog), the ID is stable, so the next start re-delivers the firings
        // a killed serve had in hand (Quartz recovers only its own instance's firings).
        factory.setQuartzProperties(quartzProperties(settings,
                settings.catalog().isPostgres() ? SchedulerInstance.id() : "single:" + dev.cellar.repository.ProcessOwner.localHost()));
        factory.setAutoStartup(false);
        factory.setWaitForJobsToCompleteOnShutdown(true);
        return factory;
    }

    /** The Quartz settings for this catalog; public for the documentation test. */
    public static Properties quartzProperties(CellarSettings settings, String instanceId) {
        Properties p = new Properties();
        p.setProperty("org.quartz.scheduler.instanceName", SCHEDULER_NAME);
        p.setProperty("org.quartz.scheduler.instanceId", instanceId);
        p.setProperty("org.quartz.threadPool.threadCount", Integer.toString(settings.serve().threads()));
        p.setProperty("org.quartz.jobStore.misfireThreshold", Long.toString(settings.serve().misfireThreshold().toMillis()));
        p.setProperty("org.quartz.jobStore.tablePrefix", "QRTZ_");
        // Triggers are acquired under the store's row lock, so two nodes never take the same firing.
        p.setProperty("org.quartz.jobStore.acquireTriggersWithinLock", "true");
        boolean clustered = settings.catalog().isPostgres();
        p.setProperty("org.quartz.jobStore.isClustered", Boolean.toString(clustered));
        p.setProperty("org.quartz.jobStore.clusterCheckinInterval", Long.toString(settings.serve().clusterCheckinInterval().toMillis()));
        p.setProperty("org.quartz.jobStore.driverDelegateClass", clustered
                ? "org.quartz.impl.jdbcjobstore.PostgreSQLDelegate" : "org.quartz.impl.jdbcjobstore.StdJDBCDelegate");
        return p;
    }
}
