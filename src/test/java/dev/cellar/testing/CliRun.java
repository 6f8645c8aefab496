package dev.cellar.testing;

import dev.cellar.cli.CellarCommandLine;
import dev.cellar.cli.CliEnvironment;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;

/** Runs the real command line in-process, with a controlled environment, capturing its output. */
public record CliRun(int exitCode, String out, String err) {

    /** Runs with an empty environment and the given home (so no ~/.pgpass or CELLAR_* leaks in from the machine). */
    /** {@code cellar --config CONFIG ARGS...}. */
    public static CliRun withConfig(Path home, Path config, String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--config";
        all[1] = config.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        return run(home, all);
    }

    public static CliRun run(Path home, String... args) {
        return run(Map.of(), home, args);
    }

    public static CliRun run(Map<String, String> env, Path home, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new CellarCommandLine(new CliEnvironment(env, home)).run(args, new PrintWriter(out), new PrintWriter(err));
        return new CliRun(code, out.toString(), err.toString());
    }

    @Override
    public String toString() {
        return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
}
