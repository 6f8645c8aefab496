package dev.cellar.cli;

import dev.cellar.api.Cellar;
import dev.cellar.api.ExitCode;
import dev.cellar.retention.KeepTarget;
import dev.cellar.retention.PrunePlan;
import dev.cellar.retention.RetentionEvaluation;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cellar prune} and {@code cellar keep}. */
final class RetentionCommands {

    private RetentionCommands() {
    }

    @Command(name = "prune", mixinStandardHelpOptions = true,
            description = {"Run a retention-prune job: delete the backups, WAL and bundles the server's retention policy no longer needs.",
                    "Prints the plan: every backup's verdict and why, what is deleted, the bytes freed. With --dry-run, deletes nothing.",
                    "Exit code 0 when done, 1 when the job FAILED (a backup or a restore was running: run it again later)."})
    static final class Prune implements Callable<Integer> {
        @Parameters(paramLabel = "SERVER")
        String server;
        @Option(names = "--dry-run", description = "Print the plan, delete nothing.")
        boolean dryRun;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CellarCommand root = CellarCommand.root(spec);
            Cellar.PruneResult r = root.cellar().prune(server, dryRun);
            root.output().result(r, out -> {
                if (r.restarted()) {
                    out.println("Restarted the failed prune: carrying out its plan.");
                }
                PrunePlan p = r.plan();
                if (p != null) {
                    out.printf("Retention %s for server %s%s:%n", p.policy(), p.server(), r.dryRun() ? " (dry run: nothing deleted)" : "");
                    for (RetentionEvaluation.Verdict v : p.verdicts()) {
                        out.printf("  %-16s %-16s %s%n", v.id(), v.status().label, v.reason());
                    }
                    out.printf("%s %d backups (%s of metadata), %d WAL files (%s), unreferenced bundles in %d directories (%s): %s in all%n",
                            r.dryRun() ? "Would delete" : "Deleted", p.deleteBackups().size(), BackupCommands.size(p.backupBytes()),
                            p.deleteWal().size(), BackupCommands.size(p.walBytes()), p.bundleDirectories().size(), BackupCommands.size(p.bundleBytes()),
                            BackupCommands.size(p.bytesFreed()));
                    p.notes().forEach(n -> out.println("  note: " + n));
                    out.println();
                }
                JobsCommand.printDetail(out, r.execution());
            });
            return JobsCommand.exitCodeOf(r.execution().execution());
        }
    }

    @Command(name = "keep", mixinStandardHelpOptions = true,
            description = {"Keep a backup whatever the retention policy says (full: with all WAL after it; standalone: with the WAL from",
                    "its begin to its end), release it, or show its annotation. A kept full backup counts toward redundancy."})
    static final class Keep implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "SERVER")
        String server;
        @Parameters(index = "1", paramLabel = "ID")
        String id;
        @Option(names = "--target", paramLabel = "full|standalone", description = "full: the backup and all WAL after it; standalone: only the WAL it needs.")
        String target;
        @Option(names = "--release", description = "Remove the keep annotation.")
        boolean release;
        @Option(names = "--status", description = "Show the keep annotation.")
        boolean status;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            int given = (target != null ? 1 : 0) + (release ? 1 : 0) + (status ? 1 : 0);
            if (given != 1) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "give exactly one of --target full|standalone, --release, --status");
            }
            KeepTarget t;
            try {
                t = target == null ? null : KeepTarget.parse(target);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            CellarCommand root = CellarCommand.root(spec);
            Optional<KeepTarget> now = root.cellar().keep(server, id, t, release);
            record KeepStatus(String server, String id, String keep) {
            }
            KeepStatus s = new KeepStatus(server, id, now.map(k -> k.name().toLowerCase()).orElse("none"));
            root.output().result(s, out -> out.printf("Backup %s of server %s: %s%n", id, server,
                    now.map(k -> "KEEP:" + k + (k == KeepTarget.FULL ? " (kept with all WAL after it)" : " (kept with the WAL it needs)"))
                            .orElse("not kept (retention applies)")));
            return ExitCode.OK.code();
        }
    }
}
