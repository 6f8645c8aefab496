package dev.cellar.cli;

import dev.cellar.api.Cellar;
import dev.cellar.api.ExitCode;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code cellar cron}. */
@Command(name = "cron", mixinStandardHelpOptions = true,
        description = {"Run once everything that is due, then exit (for system cron, e.g. every minute): a wal-sweep of every server,",
                "and a retention prune of every server with a retention policy. One server's failure does not stop the others.",
                "Exit code 0 when everything completed, 3 when something completed with warnings or was busy, 1 when something failed."})
final class CronCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        CellarCommand root = CellarCommand.root(spec);
        List<Cellar.CronRun> runs = root.cellar().cron();
        root.output().result(runs, out -> {
            if (runs.isEmpty()) {
                out.println("No servers are configured.");
            }
            for (Cellar.CronRun r : runs) {
                out.printf("%-12s %-16s %-10s %s%s%n", r.server(), r.job(), r.status(), r.execution() == null ? "" : "execution " + r.execution() + " ",
                        r.detail() == null ? "" : r.detail());
            }
        });
        boolean failed = runs.stream().anyMatch(r -> r.status().equals("FAILED"));
        boolean warned = runs.stream().anyMatch(r -> !r.status().equals("COMPLETED"));
        return failed ? ExitCode.FAILED.code() : warned ? ExitCode.WARNING.code() : ExitCode.OK.code();
    }
}
