package dev.cellar.jobs;

import java.util.List;
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

    /**
     * The auto-configuration the other verbs use: Spring Batch's JDBC job repository and operator, and the
     * transaction manager and JDBC support under them (also {@code cellar serve --no-web}, whose scheduler needs only
     * the data source). Everything else on the class path (the web server, Actuator, metrics, JSON, task executors,
     * AOP, SSL bundles, health contributors...) only {@code cellar serve} with its web server uses.
     */
    private static final List<String> OUTSIDE_SERVE = List.of(
            "org.springframework.boot.batch.",
            "org.springframework.boot.transaction.",
            "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
            "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration",
            "org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration",
            "org.springframework.boot.autoconfigure.context.PropertyPlaceholderAutoConfiguration",
            "org.springframework.boot.autoconfigure.context.LifecycleAutoConfiguration");

    /**
     * The auto-configuration classes on the class path that only {@code cellar serve} needs, read
     * from the libraries' own import lists: every one not named by {@link #OUTSIDE_SERVE}. Other verbs
     * neither parse nor start them (about a third of the context's start-up on two cores).
     */
    static List<String> serveOnlyAutoConfiguration() {
        List<String> out = new java.util.ArrayList<>();
        try {
            var resources = CellarJobsApplication.class.getClassLoader()
                    .getResources("META-INF/spring/org.springframework.boot.autoconfigure.AutoConfiguration.imports");
            while (resources.hasMoreElements()) {
                try (var in = resources.nextElement().openStream()) {
                    for (String line : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\\R")) {
                        String name = line.strip();
                        if (!name.isEmpty() && !name.startsWith("#") && OUTSIDE_SERVE.stream().noneMatch(name::startsWith)) {
                            out.add(name);
                        }
                    }
                }
            }
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot read the auto-configuration lists: " + e.getMessage(), e);
        }
        return out;
    }

    /** The catalog, opened (and its job repository schema checked) beside the context's start: {@link CatalogOpening}. */
    @Bean(destroyMethod = "close")
    public DataSource catalogDataSource(CatalogOpening opening) {
        return opening.dataSource();
    }
}
