package dev.cellar.cli;

import dev.cellar.api.CellarException;
import dev.cellar.api.ExitCode;
import dev.cellar.demo.Demo;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cellar demo}. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run the whole pipeline on a PostgreSQL of its own: a dataset, a full and an incremental backup, WAL archiving,",
                "a mistake (DROP TABLE), a point-in-time restore to before it, the restored copy started and checked.",
                "Uses the PostgreSQL binaries the distribution ships (or --pg-bin), an H2 catalog and a file repository in --dir.",
                "Exit code 0 when the restored table matches, 1 when it does not or a job failed."})
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--dir", paramLabel = "DIR", description = "Demo directory (default: <cellar.home>/demo); emptied when it holds an earlier demo.")
    Path dir;
    @Option(names = "--scale", defaultValue = "10", paramLabel = "N", description = "Dataset size: N x 100,000 orders, about 20 MB each (default ${DEFAULT-VALUE}).")
    int scale;
    @Option(names = "--pg-bin", paramLabel = "DIR", description = "Use these PostgreSQL server binaries instead of the shipped ones.")
    Path pgBin;
    @Option(names = "--keep", description = "Leave the demo cluster running for exploration.")
    boolean keep;
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CellarCommand root = CellarCommand.root(spec);
        if (scale < 1 || scale > 1000) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--scale must be 1 to 1000");
        }
        Path home = root.settings().home();
        Path target = dir != null ? dir : home.resolve("demo");
        String distProperty = System.getProperty("cellar.dist");
        Path dist = distProperty != null ? Path.of(distProperty) : null;
        if (dist == null || !java.nio.file.Files.isExecutable(dist.resolve("bin/cellar-wal-archive"))) {
            throw new CellarException(ExitCode.USAGE, "cellar demo runs from the distribution (target/cellar/bin/cellar demo): "
                    + "it needs bin/cellar-wal-archive beside it");
        }
        Output output = root.output();
        PrintWriter narrative = output.json() ? spec.commandLine().getErr() : spec.commandLine().getOut();
        Demo.Result r = new Demo(new Demo.Options(target, dir != null, scale, pgBin, keep), dist, narrative).run();
        output.result(r, out -> out.println(r.passed() ? "\nThe demo passed: the dropped table is back as it was at T."
                : "\nThe demo FAILED: the restored table does not match."));
        return r.passed() ? ExitCode.OK.code() : ExitCode.FAILED.code();
    }
}
