package dev.cellar.jobs;

import dev.cellar.config.CellarSettings;
import java.nio.file.Files;
import java.util.Map;
import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A started job context: what the facade holds while a verb runs jobs or reads their history.
 * Starting it recovers executions this host left running when a process died.
 */
public final class JobRuntime implements AutoCloseable {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(JobRuntime.class);
    private static final String LOGGING_SYSTEM = "org.springframework.boot.logging.LoggingSystem";

    private final ConfigurableApplicationContext context;

    private JobRuntime(ConfigurableApplicationContext context) {
        this.context = context;
    }

    public static JobRuntime start(CellarSettings settings) {
        try {
            Files.createDirectories(settings.home());
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot create cellar.home " + settings.home() + ": " + e.getMessage(), e);
        }
        // Logging is configured once, by logback itself, for every verb (see config/logback.xml);
        // Spring Boot must not re-initialise it when a job context starts.
        if (System.getProperty(LOGGING_SYSTEM) == null) {
            System.setProperty(LOGGING_SYSTEM, "none");
        }
        ConfigurableApplicationContext ctx = new SpringApplicationBuilder(CellarJobsApplication.class)
                .web(WebApplicationType.NONE)
                .bannerMode(Banner.Mode.OFF)
                .logStartupInfo(false)
                .registerShutdownHook(false)
                .properties(Map.of(
                        "spring.batch.job.enabled", "false",
                        "spring.batch.jdbc.initialize-schema", "never",
                        "spring.main.allow-bean-definition-overriding", "false",
                        "spring.jmx.enabled", "false"))
                .initializers(c -> c.getBeanFactory().registerSingleton("cellarSettings", settings))
                .run();
        log.debug("Job repository open: {}", settings.catalog().url());
        JobRuntime runtime = new JobRuntime(ctx);
        runtime.launcher().recoverOrphans();
        return runtime;
    }

    public JobLaunchService launcher() {
        return context.getBean(JobLaunchService.class);
    }

    public JobHistory history() {
        return context.getBean(JobHistory.class);
    }

    public <T> T bean(Class<T> type) {
        return context.getBean(type);
    }

    public <T> java.util.Map<String, T> beansOfType(Class<T> type) {
        return context.getBeansOfType(type);
    }

    @Override
    public void close() {
        context.close();
    }
}
