package dev.cellar.cli;

import dev.cellar.api.Cellar;
import dev.cellar.api.ExitCode;
import dev.cellar.config.CellarSettings;
import dev.cellar.schedule.SchedulePlan;
import dev.cellar.schedule.ServeDaemon;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cellar serve}: the scheduler daemon, with the job history page, JSON API and metrics. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Run the scheduler daemon: Quartz fires each server's schedules (servers.<name>.schedules, defaults from jobs/<name>.yaml)",
                "and serves the job history page, its JSON API, /actuator/health and /actuator/prometheus on cellar.serve.listen.",
                "With a PostgreSQL catalog, several nodes share the schedules (clustered Quartz) and each firing runs on one node.",
                "SIGTERM stops gracefully: running jobs stop at their next checkpoint and stay restartable.",
                "Exit code 0 after a graceful stop (SIGTERM or SIGINT), 2 for a configuration mistake, 1 when it cannot start."})
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--no-web", description = "Schedule only: no page, API or metrics endpoint.")
    boolean noWeb;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        CellarCommand root = CellarCommand.root(spec);
        Cellar cellar = root.cellar();
        // Tomcat and Quartz log through java.util.logging: route it to logback like everything else.
        org.slf4j.bridge.SLF4JBridgeHandler.removeHandlersForRootLogger();
        org.slf4j.bridge.SLF4JBridgeHandler.install();
        CellarSettings settings = cellar.settings();
        ServeDaemon daemon = ServeDaemon.start(cellar, noWeb ? List.of() : List.of(dev.cellar.web.WebConfiguration.class), !noWeb);
        // SIGTERM and SIGINT stop gracefully before the JVM begins to exit: in a shutdown hook it
        // would be too late, as H2 closes an embedded catalog in its own hook (and AUTO_SERVER
        // does not allow turning that off), so stopped executions could not be recorded.
        java.util.Optional<ServeCommandSocket> commands = settings.serve().acceptCommands()
                ? ServeCommandSocket.open(cellar, root.environment()) : java.util.Optional.empty();
        commands.ifPresent(c -> daemon.beforeClose(() -> c.close(settings.serve().shutdownTimeout())));
        Runnable shutdown = () -> {
            commands.ifPresent(ServeCommandSocket::stopAccepting); // commands already running are stopped with the jobs
            daemon.shutdown();
        };
        for (String name : new String[] {"TERM", "INT"}) {
            sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> new Thread(shutdown, "cellar-serve-" + name).start());
        }
        SchedulePlan plan = daemon.plan();
        String url = noWeb ? null : "http://" + settings.serve().listenHost() + ":" + settings.serve().listenPort() + "/";
        String socket = commands.map(c -> c.path().toString()).orElse("");
        root.output().result(Map.of("node", daemon.node(), "schedules", plan.entries(), "notes", plan.notes(), "page", url == null ? "" : url,
                "commands", socket), out -> {
            out.println("Scheduler node " + daemon.node() + (settings.catalog().isPostgres() ? " (clustered)" : "") + ", "
                    + plan.entries().size() + " schedule(s):");
            for (SchedulePlan.Entry e : plan.entries()) {
                out.printf("  %-12s %-16s %s%s%n", e.server(), e.job().jobName(), e.cron(), e.isDefault() ? "  (default)" : "");
            }
            plan.notes().forEach(n -> out.println("  " + n));
            if (url != null) {
                out.println("Job history page: " + url);
            }
            if (!socket.isEmpty()) {
                out.println("Runs 'cellar backup' and 'cellar archive-wal' commands sent on " + socket);
            }
        });
        spec.commandLine().getOut().flush();
        try {
            daemon.awaitShutdown();
        } finally {
            commands.ifPresent(ServeCommandSocket::stopAccepting);
        }
        return ExitCode.OK.code();
    }
}
