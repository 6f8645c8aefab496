package dev.cellar.cli;

import dev.cellar.api.CellarException;
import dev.cellar.api.ExitCode;
import dev.cellar.config.ConfigException;
import java.io.PrintWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * Builds and runs the picocli command line, mapping every error to its documented exit code and
 * a one-line message. Tests call {@link #run} in-process with their own streams and environment.
 */
public final class CellarCommandLine {

    private static final Logger log = LoggerFactory.getLogger(CellarCommandLine.class);

    private final CliEnvironment environment;
    private final dev.cellar.api.Cellar shared;

    public CellarCommandLine(CliEnvironment environment) {
        this(environment, null);
    }

    /** A command line whose verbs use {@code shared} (opened and closed by its owner: {@code cellar serve}) instead of opening a facade. */
    CellarCommandLine(CliEnvironment environment, dev.cellar.api.Cellar shared) {
        this.environment = environment;
        this.shared = shared;
    }

    public int run(String[] args, PrintWriter out, PrintWriter err) {
        CellarCommand root = new CellarCommand(environment, shared);
        CommandLine cl = new CommandLine(root);
        cl.setOut(out);
        cl.setErr(err);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> handle(ex, root, out, err));
        try {
            return cl.execute(args);
        } finally {
            root.close();
            out.flush();
            err.flush();
        }
    }

    private static int handle(Exception ex, CellarCommand root, PrintWriter out, PrintWriter err) {
        Output output = new Output(out, err, root.json);
        if (ex instanceof ConfigException ce) {
            output.error("configuration", ExitCode.USAGE.code(), "configuration error: " + ce.getMessage());
            return ExitCode.USAGE.code();
        }
        CellarException ce = cause(ex, CellarException.class);
        if (ce != null) {
            output.error(ce.exitCode().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'), ce.exitCode().code(), ce.getMessage());
            return ce.exitCode().code();
        }
        ConfigException cfg = cause(ex, ConfigException.class);
        if (cfg != null) {
            output.error("configuration", ExitCode.USAGE.code(), "configuration error: " + cfg.getMessage());
            return ExitCode.USAGE.code();
        }
        log.error("internal error", ex);
        output.error("internal", ExitCode.INTERNAL.code(), "internal error: " + ex + " (see the log above; please report it)");
        return ExitCode.INTERNAL.code();
    }

    private static <T extends Throwable> T cause(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        return null;
    }
}
