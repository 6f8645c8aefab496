package dev.cellar.jobs;

import dev.cellar.config.CellarSettings;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.core.env.MapPropertySource;

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
        return start(settings, Extension.NONE);
    }

    /**
     * What {@code cellar serve} adds to the job context: more configuration classes (the scheduler,
     * the web page), a web server, its properties, and objects registered as beans before the
     * context starts (the facade the scheduler calls).
     */
    public record Extension(List<Class<?>> sources, boolean web, Map<String, Object> properties, Map<String, Object> singletons) {
        public static final Extension NONE = new Extension(List.of(), false, Map.of(), Map.of());
    }

    public static JobRuntime start(CellarSettings settings, Extension extension) {
        try {
            Files.createDirectories(settings.home());
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot create cellar.home " + settings.home() + ": " + e.getMessage(), e);
        }
        CatalogOpening catalog = CatalogOpening.start(settings, 8);
        ConfigurableApplicationContext ctx;
        try {
            ctx = extension.web() ? startWithSpringBoot(settings, extension, catalog) : startPlain(settings, extension, catalog);
        } catch (RuntimeException | Error e) {
            catalog.abandon();
            // A catalog that cannot be opened fails the context's start deep inside Spring's bean creation: say so plainly.
            java.util.Optional<dev.cellar.catalog.CatalogUnavailableException> unavailable = catalog.failure();
            if (unavailable.isPresent()) {
                throw unavailable.get();
            }
            throw e;
        }
        log.debug("Job repository open: {}", settings.catalog().url());
        JobRuntime runtime = new JobRuntime(ctx);
        runtime.launcher().recoverOrphans();
        return runtime;
    }

    /**
     * The job context of the command line and of {@code serve --no-web}: a plain Spring context, without Spring Boot's
     * start-up (its environment and configuration-file processing, the auto-configuration's conditions), which on two
     * cores is about a third of a job context's start.
     */
    private static ConfigurableApplicationContext startPlain(CellarSettings settings, Extension extension, CatalogOpening catalog) {
        AnnotationConfigApplicationContext ctx = new AnnotationConfigApplicationContext();
        ctx.setAllowBeanDefinitionOverriding(false);
        ctx.getEnvironment().getPropertySources().addFirst(new MapPropertySource("cellar", extension.properties()));
        registerSingletons(ctx, settings, catalog, extension);
        ctx.register(CellarJobsContext.class);
        extension.sources().forEach(ctx::register);
        try {
            ctx.refresh();
        } catch (RuntimeException | Error e) {
            ctx.close();
            throw e;
        }
        return ctx;
    }

    /** The job context of {@code cellar serve} with its web server: a Spring Boot application ({@link CellarJobsApplication}). */
    private static ConfigurableApplicationContext startWithSpringBoot(CellarSettings settings, Extension extension, CatalogOpening catalog) {
        // Logging is configured once, by logback itself, for every verb (see config/logback.xml);
        // Spring Boot must not re-initialise it when a job context starts.
        if (System.getProperty(LOGGING_SYSTEM) == null) {
            System.setProperty(LOGGING_SYSTEM, "none");
        }
        Map<String, Object> properties = new java.util.HashMap<>(Map.of(
                "spring.batch.job.enabled", "false",
                "spring.batch.jdbc.initialize-schema", "never",
                "spring.main.allow-bean-definition-overriding", "false",
                "spring.jmx.enabled", "false"));
        properties.putAll(extension.properties());
        List<Class<?>> sources = new java.util.ArrayList<>();
        sources.add(CellarJobsApplication.class);
        sources.addAll(extension.sources());
        return new SpringApplicationBuilder(sources.toArray(Class<?>[]::new))
                .web(WebApplicationType.SERVLET)
                .bannerMode(Banner.Mode.OFF)
                .logStartupInfo(false)
                .registerShutdownHook(false)
                .properties(properties)
                .initializers(c -> registerSingletons(c, settings, catalog, extension))
                .run();
    }

    /** The objects every job context holds before it starts: the settings, the catalog being opened, the extension's. */
    private static void registerSingletons(ConfigurableApplicationContext ctx, CellarSettings settings, CatalogOpening catalog,
            Extension extension) {
        ctx.getBeanFactory().registerSingleton("cellarSettings", settings);
        ctx.getBeanFactory().registerSingleton("catalogOpening", catalog);
        extension.singletons().forEach(ctx.getBeanFactory()::registerSingleton);
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
