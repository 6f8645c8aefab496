package dev.cellar.cli;

import dev.cellar.api.Cellar;
import dev.cellar.api.ExitCode;
import dev.cellar.repository.BackupInfo;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cellar backup}, {@code list-backups} and {@code show-backup}. */
final class BackupCommands {

    private BackupCommands() {
    }

    @Command(name = "backup", mixinStandardHelpOptions = true,
            description = {"Run a base-backup job: incremental against the latest backup, full when there is none or with --full.",
                    "When the server's last base-backup FAILED, this restarts that same backup from its checkpoints.",
                    "When cellar serve runs for the same configuration with cellar.serve.accept-commands on, it runs the backup in its JVM",
                    "and this command prints what it would print itself (--local: run it in this process).",
                    "Exit code 0 when the backup is committed, 1 when the job FAILED (see 'cellar jobs show')."})
    static final class Backup implements Callable<Integer> {
        @Parameters(paramLabel = "SERVER")
        String server;
        @Option(names = "--full", description = "Take a full backup even when a parent exists.")
        boolean full;
        @Option(names = "--wait", description = "Wait until the WAL segment of the backup's end is archived.")
        boolean waitForWal;
        @Option(names = "--local", description = "Run the backup in this process even when cellar serve accepts commands.")
        boolean local;
        @Option(names = "--bwlimit", paramLabel = "RATE", description = "Limit writes to the repository, e.g. 50M (bytes per second; "
                + "K, M, G); overrides the server's bwlimit.")
        String bwlimit;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            CellarCommand root = CellarCommand.root(spec);
            long rate = 0;
            if (bwlimit != null) {
                try {
                    rate = dev.cellar.config.SettingsLoader.bandwidth(bwlimit);
                } catch (IllegalArgumentException e) {
                    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--bwlimit: " + e.getMessage());
                }
            }
            long limit = rate;
            Cellar.BackupResult r = root.runningJobs(() -> root.cellar().backup(server, full, waitForWal, limit));
            root.output().result(r, out -> {
                if (r.restarted()) {
                    out.println("Restarted the failed backup " + r.execution().parameters().get("backup-id") + ".");
                }
                JobsCommand.printDetail(out, r.execution());
                if (r.backup() != null) {
                    out.println();
                    printBackup(out, r.backup());
                }
            });
            return JobsCommand.exitCodeOf(r.execution().execution());
        }
    }

    @Command(name = "list-backups", mixinStandardHelpOptions = true, description = "List a server's committed backups, oldest first.")
    static final class ListBackups implements Callable<Integer> {
        @Parameters(paramLabel = "SERVER")
        String server;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CellarCommand root = CellarCommand.root(spec);
            List<dev.cellar.api.Cellar.BackupWithStatus> backups = root.cellar().listBackupsWithStatus(server);
            java.util.Map<String, dev.cellar.verify.VerificationRecord> verified = root.cellar().verifications(server);
            // JSON: each backup's own fields, plus its retention verdict.
            com.fasterxml.jackson.databind.ObjectMapper mapper = new com.fasterxml.jackson.databind.ObjectMapper().registerModule(
                    new com.fasterxml.jackson.databind.module.SimpleModule().addSerializer(java.time.Instant.class,
                            com.fasterxml.jackson.databind.ser.std.ToStringSerializer.instance));
            com.fasterxml.jackson.databind.node.ArrayNode json = mapper.createArrayNode();
            for (var b : backups) {
                com.fasterxml.jackson.databind.node.ObjectNode n = mapper.valueToTree(b.backup());
                n.put("retention", b.retention());
                n.put("retentionReason", b.reason());
                var v = verified.get(b.backup().id());
                if (v != null) {
                    n.putObject("verified").put("status", v.passed() ? "passed" : "failed").put("time", v.time().toString())
                            .put("rtoSeconds", v.rtoSeconds()).put("toEnd", v.toEnd());
                }
                json.add(n);
            }
            root.output().result(json, out -> {
                if (backups.isEmpty()) {
                    out.println("Server " + server + " has no backups.");
                    return;
                }
                out.printf("%-16s %-11s %-16s %-20s %-20s %10s %10s %-24s %-24s %-6s %-16s %s%n", "ID", "TYPE", "PARENT", "BEGIN", "END",
                        "DB SIZE", "ON DISK", "BEGIN WAL", "END WAL", "STATUS", "RETENTION", "VERIFIED");
                for (var w : backups) {
                    BackupInfo b = w.backup();
                    var v = verified.get(b.id());
                    String verification = v == null ? "-" : (v.passed() ? "passed " : "FAILED ") + time(v.time())
                            + (v.passed() ? String.format(" RTO %.1fs", v.rtoSeconds()) : "");
                    out.printf("%-16s %-11s %-16s %-20s %-20s %10s %10s %-24s %-24s %-6s %-16s %s%n", b.id(), b.type(), b.parent() == null ? "-" : b.parent(),
                            time(b.startTime()), time(b.stopTime()), size(b.sizeBytes()), size(b.storedBytes()), b.beginWal(), b.endWal(), "DONE",
                            w.retention(), verification);
                }
            });
            return ExitCode.OK.code();
        }
    }

    @Command(name = "show-backup", mixinStandardHelpOptions = true, description = "Show one backup's metadata.")
    static final class ShowBackup implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "SERVER")
        String server;
        @Parameters(index = "1", paramLabel = "ID|latest")
        String id;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CellarCommand root = CellarCommand.root(spec);
            BackupInfo b = root.cellar().showBackup(server, id);
            root.output().result(b, out -> printBackup(out, b));
            return ExitCode.OK.code();
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = {"Delete a backup that no other backup needs, keeping at least minimum-redundancy backups.",
                    "Exit code 6 (refused) when another backup references its blocks: delete that one first."})
    static final class Delete implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "SERVER")
        String server;
        @Parameters(index = "1", paramLabel = "ID")
        String id;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CellarCommand root = CellarCommand.root(spec);
            var r = root.cellar().deleteBackup(server, id);
            root.output().result(r, out -> {
                out.println("Deleted backup " + r.id() + " of server " + r.server() + ": " + r.filesDeleted() + " files, " + size(r.bytesFreed()) + " freed.");
                r.warnings().forEach(w -> out.println("WARNING: " + w));
            });
            return r.warnings().isEmpty() ? ExitCode.OK.code() : ExitCode.WARNING.code();
        }
    }

    static void printBackup(PrintWriter out, BackupInfo b) {
        Map<String, Object> rows = new LinkedHashMap<>();
        rows.put("Backup", b.id() + " of server " + b.server());
        rows.put("Type", b.type() + (b.parent() == null ? "" : " (parent " + b.parent() + ")"));
        if (b.incrementalMethod() != null) {
            rows.put("Changes found by", b.incrementalMethod() + (b.incrementalNote() == null ? "" : ": " + b.incrementalNote()));
        }
        rows.put("Status", "DONE");
        rows.put("PostgreSQL", b.pgMajor() + ", system identifier " + b.systemIdentifier());
        rows.put("Begin", time(b.startTime()) + "  LSN " + b.startLsn() + "  WAL " + b.beginWal());
        rows.put("End", time(b.stopTime()) + "  LSN " + b.stopLsn() + "  WAL " + b.endWal());
        rows.put("Timeline", b.timeline());
        rows.put("Files", b.files());
        rows.put("Database size", size(b.sizeBytes()));
        rows.put("Stored by this backup", size(b.storedBytes()) + " (" + b.compression() + ")");
        rows.put("Page checksum failures", b.pageChecksumFailures());
        rows.forEach((k, v) -> out.printf("  %-24s %s%n", k + ":", v));
    }

    static String time(java.time.Instant t) {
        return t == null ? "-" : t.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString().replace('T', ' ').replace("Z", "");
    }

    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format("%.1f %s", v, units[u]);
    }

    @Command(name = "check-repository", mixinStandardHelpOptions = true,
            description = {"Audit a server's backups in the repository: every frame every committed backup references lies in a bundle",
                    "that exists and is long enough; and the bundle bytes no backup references (what prune reclaims).",
                    "Reads listings and manifests only (verify reads every byte). Exit code 0 when consistent, 1 when frames are missing."})
    static final class CheckRepository implements Callable<Integer> {
        @Parameters(paramLabel = "SERVER")
        String server;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CellarCommand root = CellarCommand.root(spec);
            var r = root.cellar().checkRepository(server);
            root.output().result(r, out -> {
                out.printf("Server %s: %d backups, %d frames referenced, %s in referenced bundles.%n", r.server(), r.backups(), r.frames(),
                        size(r.referencedBytes()));
                if (r.consistent()) {
                    out.println("Every referenced frame is present.");
                } else {
                    out.printf("%d frames are MISSING:%n", r.missingCount());
                    r.missing().forEach(m -> out.println("  " + m));
                }
                out.printf("Unreferenced: %d bundle files, %s (prune removes those of deleted and long-failed backups).%n",
                        r.unreferencedFiles(), size(r.unreferencedBytes()));
            });
            return r.consistent() ? ExitCode.OK.code() : ExitCode.FAILED.code();
        }
    }
}
