package dev.cellar.cli;

import dev.cellar.api.ExitCode;
import dev.cellar.config.CellarSettings;
import dev.cellar.config.SettingsLoader;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The client side of {@code <cellar.home>/serve.sock} (design 2.2): a {@code cellar backup} or {@code cellar archive-wal} hands itself to the
 * {@code cellar serve} that listens there, which runs it in its JVM (already started, its code already compiled) and
 * streams back what the command prints and its exit code. Nothing of the job framework is started here.
 *
 * <p>Any doubt runs the command in this process instead, silently: no socket, nobody listening (a stale file), serve
 * refusing (another build, another configuration, another environment), {@code --local}, help or version options,
 * a configuration that does not load (the command itself then reports it), or a run that records the launcher's AOT
 * cache (Java 25 and newer: the first backup, which must run here to be recorded).
 */
final class ServeClient {

    /** The verbs serve runs, and the job each launches (one per server at a time: its lock). */
    static final java.util.Map<String, String> DELEGATED_JOBS = java.util.Map.of("backup", "base-backup", "archive-wal", "wal-sweep");

    /** After Ctrl-C, how long the command waits for serve to stop the job and send its outcome. */
    static final int CANCEL_WAIT_SECONDS = 5;

    /** The file name of the socket under {@code cellar.home}. */
    static final String SOCKET = "serve.sock";

    private ServeClient() {
    }

    /** What the command line asks, read without picocli: the verb and the configuration file. */
    record Route(String verb, Path config, boolean mayDelegate) {

        static Route of(String[] args) {
            String verb = null;
            Path config = null;
            boolean may = true;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("--config")) {
                    if (i + 1 >= args.length) {
                        return new Route(verb, null, false);
                    }
                    config = Path.of(args[++i]);
                } else if (a.startsWith("--config=")) {
                    config = Path.of(a.substring("--config=".length()));
                } else if (a.equals("--local") || a.equals("-h") || a.equals("--help") || a.equals("-V") || a.equals("--version")) {
                    may = false;
                } else if (verb == null) {
                    if (a.startsWith("-") && !a.equals("--json")) {
                        may = false; // an option before the verb that only picocli knows how to read
                    } else if (!a.startsWith("-")) {
                        verb = a;
                    }
                }
            }
            return new Route(verb, config, may && verb != null && DELEGATED_JOBS.containsKey(verb));
        }
    }

    /**
     * Runs the command in {@code cellar serve} when one accepts it, printing its output on {@code out} and {@code err};
     * the exit code, or empty when this process must run the command itself.
     */
    static OptionalInt delegate(String[] args, CliEnvironment environment, PrintStream out, PrintStream err) {
        Route route = Route.of(args);
        if (!route.mayDelegate() || Boolean.getBoolean("cellar.aot-recording")) {
            // bin/cellar records an AOT cache from this run (Java 25 and newer): the backup must run here to be recorded
            return OptionalInt.empty();
        }
        CellarSettings settings;
        try {
            settings = new SettingsLoader(environment.variables(), environment.userHome()).load(route.config());
        } catch (RuntimeException e) {
            return OptionalInt.empty(); // the command reports the configuration error itself
        }
        Path socket = settings.home().resolve(SOCKET);
        if (!Files.exists(socket)) {
            return OptionalInt.empty();
        }
        SocketChannel channel;
        try {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            channel.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException | RuntimeException e) {
            return OptionalInt.empty(); // nobody listens: a socket file left by a serve that was killed
        }
        try (channel) {
            DataOutputStream toServe = new DataOutputStream(new BufferedOutputStream(CommandFrames.output(channel)));
            DataInputStream fromServe = new DataInputStream(new BufferedInputStream(CommandFrames.input(channel)));
            CommandFrames.field(toServe, "build", CommandFrames.build());
            // The file this process read (--config, $CELLAR_CONFIG or a default location), so serve reads the same one.
            if (settings.source().isPresent()) {
                CommandFrames.field(toServe, "config", settings.source().get().toAbsolutePath().normalize().toString());
            }
            CommandFrames.field(toServe, "user-home", environment.userHome().toString());
            CommandFrames.field(toServe, "user", System.getProperty("user.name"));
            CommandFrames.field(toServe, "pid", Long.toString(ProcessHandle.current().pid()));
            for (var e : CommandFrames.relevantEnvironment(environment.variables()).entrySet()) {
                CommandFrames.field(toServe, "env", e.getKey() + "=" + e.getValue());
            }
            for (String a : args) {
                CommandFrames.field(toServe, "arg", a);
            }
            CommandFrames.write(toServe, CommandFrames.REQUEST, "");
            CommandFrames.Frame answer = CommandFrames.read(fromServe);
            if (answer == null || answer.type() != CommandFrames.ACCEPTED) {
                if (answer != null && "DEBUG".equalsIgnoreCase(environment.variables().get("CELLAR_LOG_LEVEL"))) {
                    err.println("cellar: cellar serve on " + socket + " does not run this command (" + answer.text() + "): running it here");
                }
                return OptionalInt.empty();
            }
            return OptionalInt.of(follow(fromServe, toServe, out, err, answer.text()));
        } catch (IOException e) {
            err.println("cellar: lost cellar serve on " + socket + " while it ran the command: " + e.getMessage()
                    + " (see serve's log and 'cellar jobs list')");
            return OptionalInt.of(ExitCode.FAILED.code());
        }
    }

    /** Prints what serve sends until the exit code; Ctrl-C (the JVM's shutdown) asks serve to stop the job first. */
    private static int follow(DataInputStream fromServe, DataOutputStream toServe, PrintStream out, PrintStream err, String servePid)
            throws IOException {
        CountDownLatch ended = new CountDownLatch(1);
        Thread cancel = new Thread(() -> {
            try {
                CommandFrames.write(toServe, CommandFrames.CANCEL, "");
                // serve stops the job at its next checkpoint and sends the outcome: print it before the JVM ends
                if (!ended.await(CANCEL_WAIT_SECONDS, TimeUnit.SECONDS)) {
                    err.println("cellar: asked cellar serve (pid " + servePid + ") to stop the job; it stops at its next checkpoint"
                            + " (see 'cellar jobs list')");
                }
            } catch (IOException | InterruptedException e) {
                // serve is gone already
            }
        }, "cellar-serve-cancel");
        Runtime.getRuntime().addShutdownHook(cancel);
        try {
            while (true) {
                CommandFrames.Frame f = CommandFrames.read(fromServe);
                if (f == null) {
                    err.println("cellar: cellar serve (pid " + servePid + ") closed the connection before the command ended"
                            + " (see its log and 'cellar jobs list')");
                    return ExitCode.FAILED.code();
                }
                switch (f.type()) {
                    case CommandFrames.OUT -> {
                        out.print(f.text());
                        out.flush();
                    }
                    case CommandFrames.ERR -> {
                        err.print(f.text());
                        err.flush();
                    }
                    case CommandFrames.EXIT -> {
                        return Integer.parseInt(f.text());
                    }
                    default -> throw new IOException("unexpected frame '" + (char) f.type() + "' from cellar serve");
                }
            }
        } finally {
            ended.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(cancel);
            } catch (IllegalStateException shuttingDown) {
                // Ctrl-C: the hook is running and returns now
            }
        }
    }
}
