package dev.cellar.cli;

import dev.cellar.check.CheckOutcome;
import dev.cellar.check.CheckReport;
import dev.cellar.check.CheckStatus;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cellar check SERVER}. */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = {"Check that a server is ready to be backed up and archived: connection, settings, privileges, "
                + "archiver, repository, spool, identity. One line per check.",
                "Exit code 0 when no critical check failed, 1 otherwise."})
final class CheckCommand implements Callable<Integer> {

    @Parameters(paramLabel = "SERVER", description = "A server of the configuration.")
    String server;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        CellarCommand root = CellarCommand.root(spec);
        CheckReport report = root.cellar().check(server);
        root.output().result(new CheckResult(report.server(), report.passed(), report.outcomes()), out -> {
            out.println("Server " + report.server() + ":");
            for (CheckOutcome o : report.outcomes()) {
                String status = o.status() == CheckStatus.FAILED && !o.critical() ? "WARNING" : o.status().name();
                out.printf("\t%-18s %-8s %s%n", o.name() + ":", status, o.detail());
                if (!o.hint().isEmpty() && o.status() != CheckStatus.OK) {
                    out.printf("\t%-18s %-8s hint: %s%n", "", "", o.hint());
                }
            }
            out.println(report.passed() ? "All critical checks passed." : "Some critical checks FAILED.");
        });
        return report.passed() ? dev.cellar.api.ExitCode.OK.code() : dev.cellar.api.ExitCode.FAILED.code();
    }

    /** The JSON shape of the result. */
    record CheckResult(String server, boolean passed, java.util.List<CheckOutcome> checks) {
    }
}
