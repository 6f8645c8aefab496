package dev.cellar.web;

import dev.cellar.api.Cellar;
import dev.cellar.config.CellarSettings;
import dev.cellar.config.ServeSettings;
import dev.cellar.jobs.JobHistory;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.springframework.batch.core.job.Job;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.Ordered;

/**
 * What {@code cellar serve} adds to the job context for people and monitoring: the job history
 * page ({@code GET /}), its JSON API ({@code /api/...}), Cellar's metrics on
 * {@code /actuator/prometheus}, the {@code cellar} health component, optional basic authentication
 * and the cross-site request guard. See docs/web.md.
 */
@Configuration(proxyBeanMethods = false)
@Import({ApiController.class, PageController.class, ApiErrors.class})
public class WebConfiguration {

    @Bean
    public ServerStatusService cellarServerStatus(CellarSettings settings) {
        return new ServerStatusService(settings, Clock.systemUTC());
    }

    @Bean
    public JobStatistics cellarJobStatistics(DataSource catalogDataSource, JobHistory history, List<Job> jobs) {
        List<String> names = new ArrayList<>();
        jobs.forEach(j -> names.add(j.getName()));
        names.sort(null);
        return new JobStatistics(catalogDataSource, history, names, Clock.systemUTC());
    }

    @Bean(destroyMethod = "close")
    public RestartLauncher cellarRestartLauncher(Cellar cellar, JobHistory history, ServerStatusService status, JobStatistics statistics) {
        return new RestartLauncher(cellar, history, List.of(status::invalidate, statistics::invalidate));
    }

    @Bean
    public CellarMetrics cellarMetrics(CellarSettings settings, ServerStatusService status, JobStatistics statistics) {
        List<String> servers = new ArrayList<>(settings.servers().keySet());
        servers.sort(null);
        return new CellarMetrics(servers, status, statistics, Clock.systemUTC());
    }

    @Bean
    public CellarHealthIndicator cellarHealthIndicator(ServerStatusService status) {
        return new CellarHealthIndicator(status);
    }

    /** Basic authentication, first of all filters; only when cellar.serve.user and password-file are set. */
    @Bean
    public FilterRegistrationBean<BasicAuthFilter> cellarBasicAuth(CellarSettings settings) {
        ServeSettings serve = settings.serve();
        boolean on = serve.user().isPresent() && serve.passwordFile().isPresent();
        FilterRegistrationBean<BasicAuthFilter> r = new FilterRegistrationBean<>(
                on ? new BasicAuthFilter(serve.user().get(), serve.passwordFile().get()) : BasicAuthFilter.OFF);
        r.setEnabled(on);
        r.setOrder(Ordered.HIGHEST_PRECEDENCE);
        r.addUrlPatterns("/*");
        return r;
    }

    @Bean
    public FilterRegistrationBean<ActionHeaderFilter> cellarActionHeader() {
        FilterRegistrationBean<ActionHeaderFilter> r = new FilterRegistrationBean<>(new ActionHeaderFilter());
        r.setOrder(Ordered.HIGHEST_PRECEDENCE + 1);
        r.addUrlPatterns("/*");
        return r;
    }
}
