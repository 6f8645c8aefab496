package dev.cellar.postgres;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A PostgreSQL server this process starts and stops itself (the demo's cluster, a restored copy,
 * later verify-restore's temporary server): a data directory, a free loopback port, its own socket
 * directory, {@code pg_ctl} with a log file. When this process runs as root, the server runs as an
 * unprivileged OS user ({@code postgres} if it exists, else {@code nobody}), because PostgreSQL
 * refuses root. It is stopped by its data directory, never by process name.
 */
public final class LocalPostgresServer implements AutoCloseable {

    /** A finished command: exit code and combined output. */
    public record Result(int exitCode, String output) {
    }

    private final PostgresBinaries binaries;
    private final Path dataDir;
    private final Path socketDir;
    private final Path log;
    private int port;
    private boolean running;

    private LocalPostgresServer(PostgresBinaries binaries, Path dataDir, Path socketDir) {
        this.binaries = binaries;
        this.dataDir = dataDir;
        this.socketDir = socketDir;
        this.log = dataDir.resolveSibling(dataDir.getFileName() + ".log");
    }

    /** A new cluster: initdb with data checksums, superuser {@code postgres}, trust on loopback and the socket. */
    public static LocalPostgresServer initdb(PostgresBinaries binaries, Path dataDir, Path socketDir, Map<String, String> settings) throws IOException {
        Files.createDirectories(dataDir.getParent());
        Files.createDirectories(socketDir);
        giveToServerUser(socketDir);
        giveToServerUser(dataDir.getParent());
        Result r = runAsServerUser(List.of(binaries.tool("initdb").toString(), "-D", dataDir.toString(), "-U", "postgres", "-A", "trust",
                "--data-checksums", "--encoding=UTF8", "--locale=C", "--no-sync"), 300);
        if (r.exitCode() != 0) {
            throw new IOException("initdb failed: " + r.output().strip());
        }
        LocalPostgresServer s = new LocalPostgresServer(binaries, dataDir, socketDir);
        s.configure(settings);
        return s;
    }

    /** An existing data directory (a restored copy): used as it is. */
    public static LocalPostgresServer existing(PostgresBinaries binaries, Path dataDir, Path socketDir) throws IOException {
        Files.createDirectories(socketDir);
        giveToServerUser(socketDir);
        giveToServerUser(dataDir);
        return new LocalPostgresServer(binaries, dataDir, socketDir);
    }

    /** Appends settings to postgresql.conf (later lines win). */
    public void configure(Map<String, String> settings) throws IOException {
        StringBuilder sb = new StringBuilder("\n# written by Cellar\n");
        settings.forEach((k, v) -> sb.append(k).append(" = ").append(v).append('\n'));
        Files.writeString(dataDir.resolve("postgresql.conf"), sb.toString(), StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    /** Starts on a free loopback port and waits until it accepts connections (or, for a recovering copy, until pg_ctl returns). */
    public void start() throws IOException {
        start(300);
    }

    /** Starts, waiting up to {@code waitSeconds} for connections (a restored copy may replay for long before it takes any). */
    public void start(int waitSeconds) throws IOException {
        port = freePort();
        Result r = runAsServerUser(List.of(binaries.tool("pg_ctl").toString(), "-D", dataDir.toString(), "-l", log.toString(), "-w", "-t",
                Integer.toString(waitSeconds), "-o", "-p " + port + " -k " + socketDir + " -c listen_addresses=127.0.0.1", "start"), waitSeconds + 20);
        if (r.exitCode() != 0) {
            throw new IOException("PostgreSQL in " + dataDir + " did not start: " + r.output().strip() + "\n" + tail(log));
        }
        running = true;
    }

    /** Stops it (fast shutdown) if this object started it. */
    public void stop() {
        if (running) {
            stop(binaries, dataDir, "fast");
            running = false;
        }
    }

    /** Stops whatever server runs in a data directory (a demo left running by --keep, an interrupted run). */
    public static void stop(PostgresBinaries binaries, Path dataDir, String mode) {
        if (Files.exists(dataDir.resolve("postmaster.pid"))) {
            runAsServerUser(List.of(binaries.tool("pg_ctl").toString(), "-D", dataDir.toString(), "-m", mode, "-w", "-t", "60", "stop"), 90);
        }
    }

    /** Leaves the server running when this object is closed (for --keep). */
    public void detach() {
        running = false;
    }

    @Override
    public void close() {
        stop();
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    public Path logFile() {
        return log;
    }

    /** A pgjdbc URL for the superuser over loopback. */
    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user=postgres";
    }

    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl("postgres"), new Properties());
    }

    /** Waits until the server accepts connections and has left recovery. */
    public void awaitPrimary(long timeoutSeconds) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        String last = "";
        while (System.nanoTime() < deadline) {
            try (Connection c = connect(); var st = c.createStatement(); var rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return;
                }
                last = "still in recovery";
            } catch (SQLException e) {
                last = e.getMessage();
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }
        throw new IOException("PostgreSQL in " + dataDir + " did not finish recovery within " + timeoutSeconds + "s (" + last + ")\n" + tail(log));
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            return "(no server log at " + file + ")";
        }
    }

    /** The OS user servers run as: null when this process is not root. */
    public static String serverUser() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return null;
        }
        return run(List.of("id", "-u", "postgres"), 10).exitCode() == 0 ? "postgres" : "nobody";
    }

    /** Gives a directory tree to the server's OS user (no-op when not root). */
    public static void giveToServerUser(Path path) throws IOException {
        String user = serverUser();
        if (user != null) {
            Result r = run(List.of("chown", "-R", user + ":", path.toString()), 300);
            if (r.exitCode() != 0) {
                throw new IOException("cannot give " + path + " to the OS user " + user + ": " + r.output().strip());
            }
        }
    }

    /** Whether the server's OS user can write into a directory (every parent must be traversable). */
    public static boolean serverUserCanWrite(Path dir) {
        String user = serverUser();
        return user == null || run(List.of(runuser(), "-u", user, "--", "test", "-w", dir.toString(), "-a", "-x", dir.toString()), 10).exitCode() == 0;
    }

    static Result runAsServerUser(List<String> command, int timeoutSeconds) {
        String user = serverUser();
        if (user == null) {
            return run(command, timeoutSeconds);
        }
        List<String> wrapped = new ArrayList<>(List.of(runuser(), "-u", user, "--"));
        wrapped.addAll(command);
        return run(wrapped, timeoutSeconds);
    }

    /** runuser(1) (util-linux), which root's PATH has but a trimmed PATH may not. */
    private static String runuser() {
        for (String candidate : List.of("/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        return "runuser";
    }

    /** Runs a command (no shell), waits, returns its exit code and output. */
    public static Result run(List<String> command, int timeoutSeconds) {
        try {
            Path out = Files.createTempFile("cellar-cmd", ".log");
            try {
                Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return new Result(124, "timed out after " + timeoutSeconds + "s: " + String.join(" ", command));
                }
                return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
