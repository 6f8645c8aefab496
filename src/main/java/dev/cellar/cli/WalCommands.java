package dev.cellar.cli;

import dev.cellar.jobs.ExecutionDetail;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cellar archive-wal}. */
final class WalCommands {

    private WalCommands() {
    }

    @Command(name = "archive-wal", mixinStandardHelpOptions = true,
            description = {"Run one wal-sweep job: move the spooled WAL of a server into the repository, validated and compressed.",
                    "Exit code 0 when everything was archived, 3 when files had to be kept in wal-errors (corrupt, unknown, "
                            + "or a duplicate with different content), 1 when the job FAILED."})
    static final class ArchiveWal implements Callable<Integer> {
        @Parameters(paramLabel = "SERVER")
        String server;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CellarCommand root = CellarCommand.root(spec);
            ExecutionDetail d = root.cellar().archiveWal(server);
            root.output().result(d, out -> JobsCommand.printDetail(out, d));
            return JobsCommand.exitCodeOf(d.execution());
        }
    }
}
