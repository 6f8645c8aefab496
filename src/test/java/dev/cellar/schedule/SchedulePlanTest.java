package dev.cellar.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cellar.config.CellarSettings;
import dev.cellar.config.ConfigException;
import dev.cellar.config.SettingsLoader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** What {@code cellar serve} schedules from the configuration, and its {@code serve:} settings. */
class SchedulePlanTest {

    private static CellarSettings parse(String yaml) {
        return new SettingsLoader(Map.of(), Path.of("/home/dba")).parseYaml(yaml);
    }

    private static final String TWO_SERVERS = """
            cellar:
              repository: /srv/repo
              servers:
                main:
                  conninfo: jdbc:postgresql://db1/postgres
                  retention: REDUNDANCY 2
                  schedules:
                    base-backup: "0 0 1 * * ?"
                    verify-restore: "off"
                reports:
                  conninfo: jdbc:postgresql://db2/postgres
                  schedules:
                    retention-prune: "0 0 5 * * ?"
            """;

    @Test
    void everyServerGetsEachJobAtItsOwnOrTheDefaultScheduleUnlessOffOrWithoutAPolicy() {
        SchedulePlan plan = SchedulePlan.of(parse(TWO_SERVERS));
        assertThat(plan.entries()).extracting(e -> e.server() + " " + e.job().jobName() + " " + e.cron() + (e.isDefault() ? " default" : ""))
                .containsExactly(
                        "main base-backup 0 0 1 * * ?",
                        "main wal-sweep 0 * * * * ? default",
                        "main retention-prune 0 30 3 * * ? default",
                        "reports base-backup 0 0 2 * * ? default",
                        "reports wal-sweep 0 * * * * ? default",
                        "reports verify-restore 0 0 4 ? * SUN default");
        assertThat(plan.notes()).containsExactly(
                "main: verify-restore is off (schedules.verify-restore: off)",
                "reports: retention-prune is not scheduled: the server has no retention policy");
    }

    @Test
    void serveSettingsHaveLoopbackDefaultsAndRefuseAnOpenAddressWithoutAuthentication() {
        CellarSettings d = parse("cellar:\n  home: /var/lib/cellar\n");
        assertThat(d.serve().listenHost()).isEqualTo("127.0.0.1");
        assertThat(d.serve().listenPort()).isEqualTo(7480);
        assertThat(d.serve().user()).isEmpty();
        assertThat(d.serve().misfireThreshold()).isEqualTo(Duration.ofSeconds(60));

        CellarSettings s = parse("""
                cellar:
                  serve:
                    listen: 0.0.0.0:9000
                    user: dba
                    password-file: ${cellar.home}/serve.password
                    threads: 2
                    misfire-threshold: 30 SECONDS
                    shutdown-timeout: 2 MINUTES
                """);
        assertThat(s.serve().listenPort()).isEqualTo(9000);
        assertThat(s.serve().passwordFile()).contains(Path.of("/home/dba/.cellar/serve.password"));
        assertThat(s.serve().shutdownTimeout()).isEqualTo(Duration.ofMinutes(2));

        assertThatThrownBy(() -> parse("cellar:\n  serve:\n    listen: 10.0.0.5:7480\n")).isInstanceOf(ConfigException.class)
                .hasMessage("cellar.serve.listen: '10.0.0.5:7480' is not a loopback address and no authentication is set;"
                        + " set cellar.serve.user and cellar.serve.password-file, or listen on 127.0.0.1");
        assertThatThrownBy(() -> parse("cellar:\n  serve:\n    user: dba\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("cellar.serve.password-file: missing");
        assertThatThrownBy(() -> parse("cellar:\n  serve:\n    listen: 7480\n")).hasMessageContaining("is not HOST:PORT");
        assertThatThrownBy(() -> parse("cellar:\n  serve:\n    threds: 2\n")).hasMessageContaining("cellar.serve.threds");
        assertThatThrownBy(() -> parse("cellar:\n  servers:\n    main:\n      conninfo: jdbc:postgresql://db1/postgres\n      schedules:\n        wal-sweep: every minute\n  repository: /r\n"))
                .hasMessageContaining("or off");
    }

    @Test
    void quartzIsClusteredOnAPostgresCatalogOnly() {
        Properties h2 = SchedulerConfiguration.quartzProperties(parse("cellar:\n  home: /var/lib/cellar\n"), "n1");
        assertThat(h2.getProperty("org.quartz.jobStore.isClustered")).isEqualTo("false");
        Properties pg = SchedulerConfiguration.quartzProperties(parse("cellar:\n  catalog:\n    url: jdbc:postgresql://db/cellar\n"), "n1");
        assertThat(pg.getProperty("org.quartz.jobStore.isClustered")).isEqualTo("true");
        assertThat(pg.getProperty("org.quartz.jobStore.driverDelegateClass")).endsWith("PostgreSQLDelegate");
        assertThat(pg.getProperty("org.quartz.scheduler.instanceId")).isEqualTo("n1");
        assertThat(List.of(ScheduledJob.values())).extracting(ScheduledJob::jobName).isEqualTo(SettingsLoader.SCHEDULED_JOBS);
    }
}
