package dev.cellar.cli;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import dev.cellar.api.Cellar;
import dev.cellar.api.ExitCode;
import dev.cellar.audit.Actor;
import dev.cellar.config.CellarSettings;
import dev.cellar.config.SettingsLoader;
import dev.cellar.jobs.ExecutionSummary;
import dev.cellar.jobs.JobHistory;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.Writer;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.LoggerFactory;

/**
 * {@code cellar serve}'s side of {@code <cellar.home>/serve.sock} (design 2.2, {@code cellar.serve.accept-commands}):
 * it runs the {@code cellar backup} and {@code cellar archive-wal} commands of its own OS user in its JVM, with the same command line code as the
 * {@code cellar} process would, on this daemon's job runtime, and streams back what the command prints, the log lines of
 * the thread that runs it, and its exit code.
 *
 * <p>A command runs here only when it would do exactly what it would do in its own process: the same build of Cellar,
 * the same configuration file read with the same environment (the settings compared whole), the same relevant
 * environment ({@link CommandFrames#relevantEnvironment}) and home directory, and a verb in
 * {@link ServeClient#DELEGATED_JOBS}. Otherwise it is refused with the reason, and the client runs it itself. The
 * socket is the owner's only (mode 0600), and the peer's credentials are checked too. Its actions are audited as the
 * client's operator and pid. When the client goes (Ctrl-C, killed), its job is asked to stop, like {@code cellar jobs stop}.
 */
final class ServeCommandSocket {

    private static final org.slf4j.Logger log = LoggerFactory.getLogger(ServeCommandSocket.class);

    private final Path path;
    private final ServerSocketChannel server;
    private final Cellar cellar;
    private final CliEnvironment environment;
    private final ThreadLogForwarding forwarding;
    private final AtomicInteger requests = new AtomicInteger();
    private final java.util.Set<Thread> running = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private ServeCommandSocket(Path path, ServerSocketChannel server, Cellar cellar, CliEnvironment environment, ThreadLogForwarding forwarding) {
        this.path = path;
        this.server = server;
        this.cellar = cellar;
        this.environment = environment;
        this.forwarding = forwarding;
    }

    /** Listens on {@code <cellar.home>/serve.sock}; empty (with a warning) when another process listens there or it cannot bind. */
    static Optional<ServeCommandSocket> open(Cellar cellar, CliEnvironment environment) {
        Path path = cellar.settings().home().resolve(ServeClient.SOCKET);
        try {
            if (Files.exists(path)) {
                try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    probe.connect(UnixDomainSocketAddress.of(path));
                    log.warn("Another process listens on {}: this serve accepts no commands", path);
                    return Optional.empty();
                } catch (IOException nobody) {
                    Files.deleteIfExists(path); // left by a serve that was killed
                }
            }
            ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(path));
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            ServeCommandSocket socket = new ServeCommandSocket(path, server, cellar, environment, ThreadLogForwarding.install());
            Thread accept = new Thread(socket::acceptLoop, "cellar-commands");
            accept.setDaemon(true);
            accept.start();
            return Optional.of(socket);
        } catch (IOException | RuntimeException e) {
            log.warn("Cannot listen on {}: {}; this serve accepts no commands", path, e.toString());
            return Optional.empty();
        }
    }

    Path path() {
        return path;
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel client;
            try {
                client = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.warn("Command socket {} failed: {}", path, e.toString());
                }
                return;
            }
            Thread t = new Thread(() -> serve(client), "cellar-command-" + requests.incrementAndGet());
            t.setDaemon(true);
            t.start();
        }
    }

    /** One request: read it, check it, run it or refuse it. */
    private void serve(SocketChannel client) {
        running.add(Thread.currentThread());
        try (client) {
            DataInputStream in = new DataInputStream(new BufferedInputStream(CommandFrames.input(client)));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(CommandFrames.output(client)));
            Request request = Request.read(in);
            if (request == null) {
                return;
            }
            String refusal = refusal(client, request);
            if (refusal != null) {
                log.info("Not running 'cellar {}' of pid {}: {}; it runs in its own process", request.command(), request.pid, refusal);
                CommandFrames.write(out, CommandFrames.REFUSED, refusal);
                return;
            }
            CommandFrames.write(out, CommandFrames.ACCEPTED, Long.toString(ProcessHandle.current().pid()));
            run(request, in, out);
        } catch (IOException | RuntimeException e) {
            log.warn("Command on {} failed: {}", path, e.toString());
        } finally {
            running.remove(Thread.currentThread());
        }
    }

    /** Why this request must run in its own process, or null when it may run here. */
    private String refusal(SocketChannel client, Request r) throws IOException {
        String peer = client.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED).user().getName();
        if (!peer.equals(System.getProperty("user.name"))) {
            return "another OS user (" + peer + ")";
        }
        String build = CommandFrames.build();
        if (build.equals("unknown") || !build.equals(r.build)) {
            return "another build of Cellar";
        }
        ServeClient.Route route = ServeClient.Route.of(r.args.toArray(String[]::new));
        if (!route.mayDelegate()) {
            return "not a command serve runs";
        }
        if (!environment.userHome().toString().equals(r.userHome)) {
            return "another home directory";
        }
        if (!CommandFrames.relevantEnvironment(environment.variables()).equals(r.environment)) {
            return "another environment (CELLAR_*, PG* or SUDO_USER variables differ)";
        }
        CellarSettings theirs;
        try {
            theirs = new SettingsLoader(r.environment, Path.of(r.userHome)).load(r.config == null ? null : Path.of(r.config));
        } catch (RuntimeException e) {
            return "its configuration does not load here: " + e.getMessage();
        }
        String differs = settingsDifference(cellar.settings(), theirs);
        if (differs != null) {
            return "another configuration: " + differs + " (a file changed since serve started reads differently)";
        }
        return null;
    }

    /** The first part in which two configurations differ (the file they were read from counts by identity), or null. */
    static String settingsDifference(CellarSettings ours, CellarSettings theirs) {
        for (var c : CellarSettings.class.getRecordComponents()) {
            try {
                Object a = c.getAccessor().invoke(ours);
                Object b = c.getAccessor().invoke(theirs);
                if (c.getName().equals("source")) {
                    if (!sameFile(ours.source(), theirs.source())) {
                        return "the configuration file (" + ours.source().map(Path::toString).orElse("none") + " here, "
                                + theirs.source().map(Path::toString).orElse("none") + " there)";
                    }
                } else if (!java.util.Objects.equals(a, b)) {
                    return "cellar." + c.getName();
                }
            } catch (ReflectiveOperationException e) {
                return "cellar." + c.getName() + " (" + e + ")";
            }
        }
        return null;
    }

    private static boolean sameFile(Optional<Path> a, Optional<Path> b) {
        if (a.isEmpty() || b.isEmpty()) {
            return a.isEmpty() && b.isEmpty();
        }
        try {
            return Files.isSameFile(a.get(), b.get());
        } catch (IOException e) {
            return false;
        }
    }

    /** Runs the command on this thread, as the client's operator; a cancel (or the client going) stops its job. */
    private void run(Request r, DataInputStream in, DataOutputStream out) throws IOException {
        String[] args = r.args.toArray(String[]::new);
        Actor actor = Actor.operator(r.environment, r.user, r.pid);
        LocalDateTime started = LocalDateTime.now().minusSeconds(1);
        Thread runner = Thread.currentThread();
        java.util.concurrent.atomic.AtomicBoolean finished = new java.util.concurrent.atomic.AtomicBoolean();
        Thread watcher = new Thread(() -> watchForCancel(in, r, actor, started, finished, runner.getName()), runner.getName() + "-cancel");
        watcher.setDaemon(true);
        PrintWriter stdout = new PrintWriter(new FrameWriter(out, CommandFrames.OUT), true);
        PrintWriter stderr = new PrintWriter(new FrameWriter(out, CommandFrames.ERR), true);
        forwarding.attach(runner, bytes -> {
            stderr.write(new String(bytes, StandardCharsets.UTF_8));
            stderr.flush();
        });
        int code;
        try {
            watcher.start();
            log.info("Running 'cellar {}' for {} (pid {})", r.command(), actor.user(), r.pid);
            code = cellar.actingAs(actor, () -> new CellarCommandLine(environment, cellar).run(args, stdout, stderr));
        } catch (RuntimeException e) {
            log.error("internal error", e);
            stderr.println("cellar: internal error in cellar serve: " + e + " (see its log; please report it)");
            code = ExitCode.INTERNAL.code();
        } finally {
            finished.set(true);
            forwarding.detach(runner);
            stdout.flush();
            stderr.flush();
        }
        log.info("'cellar {}' of pid {} ended: exit code {}", r.command(), r.pid, code);
        try {
            CommandFrames.write(out, CommandFrames.EXIT, Integer.toString(code));
        } catch (IOException gone) {
            log.info("The client of 'cellar {}' went before its exit code", r.command());
        }
    }

    /**
     * Waits for the client's cancel or its end; then stops the job this request launched (if it still runs),
     * audited as the client's operator.
     */
    private void watchForCancel(DataInputStream in, Request r, Actor actor, LocalDateTime started,
            java.util.concurrent.atomic.AtomicBoolean finished, String runnerThread) {
        try {
            CommandFrames.Frame f;
            do {
                f = CommandFrames.read(in);
            } while (f != null && f.type() != CommandFrames.CANCEL);
        } catch (IOException e) {
            // the client is gone: the same as a cancel
        }
        if (finished.get()) {
            return;
        }
        String server = serverOf(r.args.toArray(String[]::new));
        String job = ServeClient.DELEGATED_JOBS.get(ServeClient.Route.of(r.args.toArray(String[]::new)).verb());
        // This request's execution: started since it began, in this process, launched by its thread (serve's own
        // scheduled runs of the same job are launched by Quartz's threads).
        long self = ProcessHandle.current().pid();
        for (int attempt = 0; attempt < 50 && !finished.get(); attempt++) {
            List<ExecutionSummary> running = cellar.listJobs(new JobHistory.Filter(server, job, "STARTED", started, 5));
            for (ExecutionSummary e : running) {
                java.util.Map<String, Object> context = cellar.showJob(e.id()).context();
                if (String.valueOf(context.get("cellar.owner.pid")).equals(Long.toString(self))
                        && runnerThread.equals(context.get("cellar.owner.thread"))) {
                    log.info("The client of 'cellar {}' is gone: stopping execution {}", r.command(), e.id());
                    cellar.actingAs(actor, () -> cellar.stopJob(e.id()));
                    return;
                }
            }
            try {
                Thread.sleep(100); // the job may not have been launched yet
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** The SERVER argument of the verb, as picocli reads it. */
    private String serverOf(String[] args) {
        picocli.CommandLine cl = new picocli.CommandLine(new CellarCommand(environment, cellar));
        picocli.CommandLine.ParseResult parsed = cl.parseArgs(args);
        while (parsed.subcommand() != null) {
            parsed = parsed.subcommand();
        }
        return parsed.matchedPositionals().isEmpty() ? null : parsed.matchedPositionals().get(0).getValue();
    }

    /** No new commands: the socket file goes (a command sent from now on runs in its own process). */
    void stopAccepting() {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // closing
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.warn("Cannot delete {}: {}", path, e.toString());
        }
    }

    /** Stops accepting, and waits up to {@code timeout} for the commands running (their jobs are being stopped) to answer. */
    void close(java.time.Duration timeout) {
        stopAccepting();
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Thread t : List.copyOf(running)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            try {
                t.join(Math.max(1, left / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** A request as the client sent it. */
    private static final class Request {
        String build = "";
        String config;
        String userHome = "";
        String user = "";
        long pid;
        final Map<String, String> environment = new java.util.TreeMap<>();
        final List<String> args = new ArrayList<>();

        String command() {
            return String.join(" ", args);
        }

        /** The request, or null when the client went before sending it whole. */
        static Request read(DataInputStream in) throws IOException {
            Request r = new Request();
            while (true) {
                CommandFrames.Frame f = CommandFrames.read(in);
                if (f == null) {
                    return null;
                }
                if (f.type() == CommandFrames.REQUEST) {
                    return r;
                }
                if (f.type() != CommandFrames.FIELD) {
                    throw new IOException("unexpected frame '" + (char) f.type() + "' in a request");
                }
                String v = f.value();
                switch (f.name()) {
                    case "build" -> r.build = v;
                    case "config" -> r.config = v;
                    case "user-home" -> r.userHome = v;
                    case "user" -> r.user = v;
                    case "pid" -> r.pid = Long.parseLong(v);
                    case "env" -> {
                        int eq = v.indexOf('=');
                        r.environment.put(eq < 0 ? v : v.substring(0, eq), eq < 0 ? "" : v.substring(eq + 1));
                    }
                    case "arg" -> r.args.add(v);
                    default -> {
                        // a field of a newer client: the build check refuses it anyway
                    }
                }
            }
        }
    }

    /** Text written to it goes to the client as frames of one type, at each flush. A client that is gone is ignored. */
    private static final class FrameWriter extends Writer {
        private final DataOutputStream out;
        private final byte type;
        private final StringBuilder pending = new StringBuilder();
        private boolean broken;

        FrameWriter(DataOutputStream out, byte type) {
            this.out = out;
            this.type = type;
        }

        @Override
        public synchronized void write(char[] buf, int off, int len) {
            pending.append(buf, off, len);
        }

        @Override
        public synchronized void flush() {
            if (pending.isEmpty()) {
                return;
            }
            String text = pending.toString();
            pending.setLength(0);
            if (broken) {
                return;
            }
            try {
                CommandFrames.write(out, type, text);
            } catch (IOException e) {
                broken = true; // the client is gone; the command goes on (its job is being stopped)
            }
        }

        @Override
        public void close() {
            flush();
        }
    }

    /**
     * A logback appender that hands the events of chosen threads, encoded as the console appender encodes them (so in
     * the text or JSON format of {@code CELLAR_LOG_FORMAT}), to a consumer: the log lines a command would print on its
     * own standard error.
     */
    static final class ThreadLogForwarding extends AppenderBase<ILoggingEvent> {
        private final Map<Thread, Consumer<byte[]>> sinks = new ConcurrentHashMap<>();
        private final Encoder<ILoggingEvent> encoder;

        private ThreadLogForwarding(Encoder<ILoggingEvent> encoder) {
            this.encoder = encoder;
        }

        static ThreadLogForwarding install() {
            LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
            Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
            Encoder<ILoggingEvent> encoder = null;
            for (var it = root.iteratorForAppenders(); it.hasNext(); ) {
                if (it.next() instanceof OutputStreamAppender<ILoggingEvent> console && console.getEncoder() != null) {
                    encoder = console.getEncoder();
                    break;
                }
            }
            if (encoder == null) {
                ch.qos.logback.classic.encoder.PatternLayoutEncoder text = new ch.qos.logback.classic.encoder.PatternLayoutEncoder();
                text.setContext(context);
                text.setPattern("%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger{30} - %msg%n");
                text.start();
                encoder = text;
            }
            ThreadLogForwarding forwarding = new ThreadLogForwarding(encoder);
            forwarding.setContext(context);
            forwarding.setName("cellar-command-socket");
            forwarding.start();
            root.addAppender(forwarding);
            return forwarding;
        }

        void attach(Thread thread, Consumer<byte[]> sink) {
            sinks.put(thread, sink);
        }

        void detach(Thread thread) {
            sinks.remove(thread);
        }

        @Override
        protected void append(ILoggingEvent event) {
            Consumer<byte[]> sink = sinks.get(Thread.currentThread());
            if (sink != null) {
                byte[] line;
                synchronized (encoder) {
                    line = encoder.encode(event);
                }
                sink.accept(line);
            }
        }
    }
}
