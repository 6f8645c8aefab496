package dev.cellar.cli;

import dev.cellar.api.CellarException;
import dev.cellar.api.ExitCode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * Verbs of the CLI contract (docs/cli.md) whose jobs are not built yet. Each is registered with
 * its final arguments, so {@code --help} documents the contract, and answers with exit code 9
 * ("not implemented yet") naming the issue that builds it. Each moves to its own class when built.
 */
final class PlannedCommands {

    private PlannedCommands() {
    }

    abstract static class PlannedVerb implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        abstract String plannedIn();

        @Override
        public Integer call() {
            throw new CellarException(ExitCode.NOT_IMPLEMENTED,
                    "'cellar " + spec.qualifiedName(" ").replaceFirst("^cellar ", "") + "' is not implemented yet (" + plannedIn() + ")");
        }
    }

    @Command(name = "serve", mixinStandardHelpOptions = true, description = "Run the scheduler daemon (Quartz) with the job history page.")
    static final class Serve extends PlannedVerb {
        String plannedIn() {
            return "issue #9, scheduler";
        }
    }
}
