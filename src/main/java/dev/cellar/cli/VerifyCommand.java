package dev.cellar.cli;

import dev.cellar.api.Cellar;
import dev.cellar.api.ExitCode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cellar verify}. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Run a verify-restore job: restore a backup into scratch space, start it as a throwaway server, check it",
                "(every database, the catalog, every table counted, amcheck where available), record the result and the RTO.",
                "Without ID: the newest backup not yet verified. --to-end replays all archived WAL instead of stopping at the backup's end.",
                "Exit code 0 when the backup passed, 1 when it failed (the reason is recorded beside the backup and printed)."})
final class VerifyCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "SERVER")
    String server;
    @Parameters(index = "1", paramLabel = "ID", arity = "0..1")
    String id;
    @Option(names = "--to-end", description = "Replay all archived WAL, not just to consistency.")
    boolean toEnd;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        CellarCommand root = CellarCommand.root(spec);
        Cellar.VerifyResult r = root.cellar().verify(server, id, toEnd);
        root.output().result(r, out -> {
            if (r.restarted()) {
                out.println("Restarted the failed verification.");
            }
            JobsCommand.printDetail(out, r.execution());
            var v = r.verification();
            if (v != null) {
                out.println();
                out.printf("Backup %s: verification %s; restore %.1fs, replay %.1fs, RTO %.1fs%n", v.backupId(), v.passed() ? "PASSED" : "FAILED",
                        v.restoreSeconds(), v.replaySeconds(), v.rtoSeconds());
                v.checks().forEach(c -> out.printf("  %-7s %-24s %s%n", c.ok() ? "OK" : "FAILED", c.name(), c.detail()));
                if (v.failure() != null) {
                    out.println("  failure: " + v.failure());
                }
            }
        });
        return r.verification() != null && r.verification().passed() && "COMPLETED".equals(r.execution().execution().status())
                ? ExitCode.OK.code() : ExitCode.FAILED.code();
    }
}
