package dev.cellar.cli;

import dev.cellar.api.Cellar;
import dev.cellar.api.ExitCode;
import dev.cellar.jobs.restore.RestoreJobConfig;
import dev.cellar.restore.RecoveryConfiguration;
import dev.cellar.restore.RecoveryTarget;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cellar recover} and {@code cellar get-wal}. */
final class RecoverCommands {

    private RecoverCommands() {
    }

    @Command(name = "recover", mixinStandardHelpOptions = true,
            description = {"Restore a backup into DEST and configure point-in-time recovery (restore job).",
                    "ID is a backup ID, 'latest', or 'auto' (the newest backup that ends before the target).",
                    "Give one target; without one, recovery replays all archived WAL.",
                    "Exit code 0 when DEST is ready to start, 6 when the restore is refused (nothing written), "
                            + "4 when the backup does not exist, 1 when the job FAILED (see 'cellar jobs show')."})
    static final class Recover implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "SERVER")
        String server;
        @Parameters(index = "1", paramLabel = "ID|latest|auto")
        String backup;
        @Parameters(index = "2", paramLabel = "DEST")
        Path destination;
        @ArgGroup(exclusive = true, multiplicity = "0..1")
        Target target;
        @Option(names = "--target-tli", paramLabel = "N|current|latest", description = "Timeline to recover along (default: current, the backup's).")
        String targetTimeline;
        @Option(names = "--target-action", paramLabel = "pause|promote|shutdown", description = "What PostgreSQL does at the target (default: pause).")
        String targetAction;
        @Option(names = "--exclusive", description = "Stop just before the target instead of just after it.")
        boolean exclusive;
        @Option(names = "--tablespace", paramLabel = "OID=PATH", description = "Restore a tablespace elsewhere (repeatable).")
        List<String> tablespaces;
        @Option(names = "--delta", description = "Reuse matching files already in DEST: only blocks whose checksum differs are written; "
                + "files not in the backup are removed.")
        boolean delta;
        @Option(names = "--bwlimit", paramLabel = "RATE", description = "Limit reads from the repository, e.g. 50M (bytes per second; K, M, G). "
                + "A restart keeps the limit of the run it restarts.")
        String bwlimit;
        @Spec
        CommandSpec spec;

        static final class Target {
            @Option(names = "--target-time", paramLabel = "TIMESTAMP", description = "ISO timestamp with an explicit zone, e.g. 2026-11-27T03:00:00Z.")
            String time;
            @Option(names = "--target-lsn", paramLabel = "LSN")
            String lsn;
            @Option(names = "--target-xid", paramLabel = "XID")
            String xid;
            @Option(names = "--target-name", paramLabel = "NAME", description = "A restore point made with pg_create_restore_point.")
            String name;
            @Option(names = "--target-immediate", description = "Stop as soon as the backup is consistent.")
            boolean immediate;
        }

        @Override
        public Integer call() throws Exception {
            CellarCommand root = CellarCommand.root(spec);
            Cellar.RecoverRequest request;
            try {
                RecoveryTarget t = target == null ? null : RecoveryTarget.of(target.time, target.lsn, target.xid, target.name, target.immediate);
                RecoveryConfiguration.Action action = null;
                if (targetAction != null) {
                    try {
                        action = RecoveryConfiguration.Action.valueOf(targetAction.toUpperCase(Locale.ROOT));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("--target-action must be pause, promote or shutdown, not '" + targetAction + "'");
                    }
                }
                if (targetTimeline != null && !targetTimeline.matches("current|latest|[1-9][0-9]*")) {
                    throw new IllegalArgumentException("--target-tli must be current, latest or a timeline number, not '" + targetTimeline + "'");
                }
                long rate = 0;
                if (bwlimit != null) {
                    try {
                        rate = dev.cellar.config.SettingsLoader.bandwidth(bwlimit);
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("--bwlimit: " + e.getMessage());
                    }
                }
                request = new Cellar.RecoverRequest(server, backup, destination, t, targetTimeline, action, exclusive,
                        RestoreJobConfig.tablespaces(tablespaces == null ? null : String.join("\n", tablespaces)), delta, rate);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
            Cellar.RecoverRequest asked = request;
            Cellar.RecoverResult r = root.runningJobs(() -> root.cellar().recover(asked));
            root.output().result(r, out -> {
                if (r.restarted()) {
                    out.println("Restarted the unfinished restore into " + r.destination() + " from its checkpoints.");
                }
                JobsCommand.printDetail(out, r.execution());
                if (r.plan() != null && "COMPLETED".equals(r.execution().execution().status())) {
                    out.println();
                    out.printf("Restored backup %s of server %s into %s.%n", r.plan().backupId(), server, r.destination());
                    out.printf("  target:   %s%n", r.plan().target());
                    out.printf("  timeline: %s; WAL staged: %d segments (%s to %s)%n", r.plan().timeline(), r.plan().walSegments(),
                            r.plan().firstWal(), r.plan().lastWal());
                    r.plan().notes().forEach(n -> out.println("  note:     " + n));
                    out.println("Start it (as the owner of DEST, on a free port): pg_ctl -D " + r.destination() + " -o '-p PORT' start");
                    out.println("archive_mode is off in the restored copy: it never archives into this server's archive.");
                }
            });
            return JobsCommand.exitCodeOf(r.execution().execution());
        }
    }

    @Command(name = "get-wal", mixinStandardHelpOptions = true,
            description = {"Write one archived WAL file, decompressed and verified, to PATH (for a restore_command on another host:",
                    "restore_command = 'cellar get-wal SERVER %f %p').",
                    "Exit code 0 when written, 4 when the archive does not hold it (PostgreSQL then tries elsewhere or ends recovery)."})
    static final class GetWal implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "SERVER")
        String server;
        @Parameters(index = "1", paramLabel = "NAME", description = "A WAL file name (%f).")
        String name;
        @Parameters(index = "2", paramLabel = "PATH", description = "Where to write it (%p).")
        Path target;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CellarCommand root = CellarCommand.root(spec);
            long bytes = root.cellar().getWal(server, name, target);
            record Fetched(String server, String name, String path, long bytes) {
            }
            Fetched f = new Fetched(server, name, target.toString(), bytes);
            root.output().result(f, out -> out.printf("Wrote %s (%d bytes) to %s.%n", name, bytes, target));
            return ExitCode.OK.code();
        }
    }
}
