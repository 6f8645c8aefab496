package dev.cellar.cli;

import dev.cellar.jobs.ExecutionDetail;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cellar archive-wal}, {@code switch-wal}, {@code list-wal}. */
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
        @picocli.CommandLine.Option(names = "--local", description = "Run the sweep in this process even when cellar serve accepts commands.")
        boolean local;
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

    @Command(name = "switch-wal", mixinStandardHelpOptions = true,
            description = {"Close the current WAL segment (pg_switch_wal), so that it is archived now.",
                    "With --archive, run wal-sweep until that segment is in the repository; exit code 1 if it is not within --timeout."})
    static final class SwitchWal implements Callable<Integer> {
        @Parameters(paramLabel = "SERVER")
        String server;
        @picocli.CommandLine.Option(names = "--archive", description = "Wait until the switched segment is in the repository.")
        boolean archive;
        @picocli.CommandLine.Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
                description = "How long --archive waits (default ${DEFAULT-VALUE}).")
        int timeout;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CellarCommand root = CellarCommand.root(spec);
            var r = root.cellar().switchWal(server, archive, java.time.Duration.ofSeconds(timeout));
            root.output().result(r, out -> out.printf("Switched WAL on server %s: segment %s%s (%.1fs).%n", r.server(), r.segment(),
                    r.archived() ? " is in the repository" : " closed", r.seconds()));
            return dev.cellar.api.ExitCode.OK.code();
        }
    }

    @Command(name = "list-wal", mixinStandardHelpOptions = true,
            description = {"Archived WAL per timeline: ranges of consecutive segments and the gaps between them.",
                    "Exit code 0; a gap is shown, and reported by 'check' and refused by a restore that needs it."})
    static final class ListWal implements Callable<Integer> {
        @Parameters(paramLabel = "SERVER")
        String server;
        @picocli.CommandLine.Option(names = "--timeline", paramLabel = "T", description = "Only this timeline.")
        Integer timeline;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CellarCommand root = CellarCommand.root(spec);
            var all = root.cellar().listWal(server);
            var s = timeline == null ? all : new dev.cellar.wal.WalRanges.Summary(
                    all.timelines().stream().filter(t -> t.timeline() == timeline).toList(), all.historyFiles(),
                    all.partialFiles(), all.backupHistoryFiles());
            root.output().result(s, out -> {
                if (s.timelines().isEmpty()) {
                    out.println("Server " + server + " has no archived WAL segments.");
                }
                for (var t : s.timelines()) {
                    out.printf("Timeline %d:%n", t.timeline());
                    for (var r : t.ranges()) {
                        out.printf("  %s .. %s  %d segments%n", r.first(), r.last(), r.count());
                    }
                    for (var g : t.gaps()) {
                        out.printf("  GAP %s .. %s  %d segments missing%n", g.first(), g.last(), g.count());
                    }
                }
                if (!s.historyFiles().isEmpty()) {
                    out.println("History files: " + String.join(", ", s.historyFiles()));
                }
                out.printf("%d .partial, %d .backup files%n", s.partialFiles(), s.backupHistoryFiles());
            });
            return dev.cellar.api.ExitCode.OK.code();
        }
    }

    @Command(name = "rebuild-wal-index", mixinStandardHelpOptions = true,
            description = {"Rebuild the server's WAL index (wal/index.json) from the repository's listing, under the archive lock.",
                    "The sweep keeps the index current; rebuild it after files were moved by hand. Also writes the WAL summary of every",
                    "archived segment that has none and can have one, and replaces those that do not decode (written without fsync, a",
                    "system crash may damage one; docs/design.md 5.7). Exit code 5 while a sweep holds the lock."})
    static final class RebuildWalIndex implements Callable<Integer> {
        @Parameters(paramLabel = "SERVER")
        String server;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CellarCommand root = CellarCommand.root(spec);
            var r = root.cellar().rebuildWalIndex(server);
            root.output().result(r, out -> {
                out.printf("Rebuilt the WAL index of server %s: %d segments on %d timelines, %d other files (%.1fs).%n",
                        r.server(), r.segments(), r.timelines(), r.otherFiles(), r.seconds());
                out.printf("WAL summaries: %d written, %d unsafe, %d missing.%n", r.summariesWritten(), r.summariesUnsafe().size(), r.summariesMissing().size());
                r.summariesUnsafe().forEach(u -> out.printf("  unsafe: %s%n", u));
                r.summariesMissing().forEach(m -> out.printf("  missing: %s%n", m));
                r.summariesReplaced().forEach(m -> out.printf("  replaced: %s%n", m));
            });
            return dev.cellar.api.ExitCode.OK.code();
        }
    }
}
