package dev.cellar.jobs;

import com.zaxxer.hikari.HikariDataSource;
import dev.cellar.config.CellarSettings;
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

    /** Auto-configuration that only {@code cellar serve} uses: the web server, Actuator, metrics. */
    private static final List<String> SERVE_ONLY_PACKAGES = List.of(
            "org.springframework.boot.actuate.", "org.springframework.boot.health.", "org.springframework.boot.micrometer.",
            "org.springframework.boot.webmvc.", "org.springframework.boot.servlet.", "org.springframework.boot.tomcat.",
            "org.springframework.boot.http.converter.", "org.springframework.boot.jackson.");

    /**
     * The auto-configuration classes on the class path that only {@code cellar serve} needs, read
     * from the libraries' own import lists, so that other verbs start no metrics registry, health
     * contributors or JSON mappers they would never use.
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
                        if (!name.isEmpty() && !name.startsWith("#") && SERVE_ONLY_PACKAGES.stream().anyMatch(name::startsWith)) {
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

    @Bean(destroyMethod = "close")
    public DataSource catalogDataSource(CellarSettings settings) {
        HikariDataSource ds = dev.cellar.catalog.CatalogDataSource.open(settings, 8);
        JobRepositorySchema.ensure(ds);
        return ds;
    }
}
