package dev.cellar.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A real, throwaway PostgreSQL cluster for a test: data checksums on, a free loopback port,
 * {@code wal_level=replica}, {@code archive_mode=on} and {@code archive_command} through Cellar's
 * own {@code cellar-wal-archive} into a spool. Superuser {@code postgres}, password-authenticated
 * over TCP (trust on its private Unix socket). Server processes run as an unprivileged OS user
 * when the JVM is root. {@link #close} stops exactly this cluster (by data directory) and deletes it.
 *
 * <p>To stay fast, initdb runs once per binaries and JVM into a template that each cluster copies;
 * {@link Spec#freshInitdb} asks for a cluster of its own (a different system identifier).
 */
public final class PostgresCluster implements AutoCloseable {

    public static final String SUPERUSER = "postgres";

    private static final Map<Path, Template> TEMPLATES = new ConcurrentHashMap<>();
    private static final Path ARCHIVE_SCRIPT = Path.of("src/main/dist/bin/cellar-wal-archive").toAbsolutePath();

    private final PostgresBinaries binaries;
    private final Path base;
    private final Path dataDir;
    private final Path spool;
    private final String password;
    private int port;
    private boolean running;

    /** What kind of cluster a test wants. */
    public static final class Spec {
        private PostgresBinaries binaries;
        private final Map<String, String> settings = new LinkedHashMap<>();
        private boolean fresh;
        private boolean archiving = true;

        public static Spec defaults() {
            return new Spec();
        }

        public Spec binaries(PostgresBinaries b) {
            this.binaries = b;
            return this;
        }

        /** A postgresql.conf setting, written after the harness's own (so it wins). */
        public Spec setting(String name, String value) {
            settings.put(name, value);
            return this;
        }

        /** No archive_command (archive_mode stays on unless set otherwise). */
        public Spec withoutArchiving() {
            this.archiving = false;
            return this;
        }

        /** Run initdb for this cluster alone, giving it its own system identifier. */
        public Spec freshInitdb() {
            this.fresh = true;
            return this;
        }
    }

    private record Template(Path dir, String password) {
    }

    private PostgresCluster(PostgresBinaries binaries, Path base, String password) {
        this.binaries = binaries;
        this.base = base;
        this.dataDir = base.resolve("data");
        this.spool = base.resolve("spool");
        this.password = password;
    }

    public static PostgresCluster start() {
        return start(Spec.defaults());
    }

    public static PostgresCluster start(Spec spec) {
        PostgresBinaries binaries = spec.binaries != null ? spec.binaries : PostgresBinaries.requireLocal();
        Path base = null;
        try {
            base = Files.createTempDirectory("cellar-pg-");
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
            String password;
            if (spec.fresh) {
                password = "pw-" + UUID.randomUUID();
                initdb(binaries, base.resolve("data"), password, base);
            } else {
                Template t = TEMPLATES.computeIfAbsent(binaries.bin(), b -> createTemplate(binaries));
                OsProcess.Result r = OsProcess.run(List.of("cp", "-a", t.dir().toString(), base.resolve("data").toString()), null, 120);
                if (r.exitCode() != 0) {
                    throw new IllegalStateException("cannot copy the template cluster: " + r.output());
                }
                password = t.password();
            }
            PostgresCluster c = new PostgresCluster(binaries, base, password);
            Files.createDirectories(c.spool);
            Path bin = Files.createDirectories(base.resolve("bin"));
            Files.copy(ARCHIVE_SCRIPT, bin.resolve("cellar-wal-archive"));
            Files.setPosixFilePermissions(bin.resolve("cellar-wal-archive"), PosixFilePermissions.fromString("rwxr-xr-x"));
            c.configure(spec);
            OsProcess.chownToPostgres(base);
            c.startServer();
            return c;
        } catch (IOException | RuntimeException e) {
            OsProcess.deleteTree(base);
            throw e instanceof RuntimeException re ? re : new IllegalStateException(e);
        }
    }

    private static Template createTemplate(PostgresBinaries binaries) {
        try {
            Path dir = Files.createTempDirectory("cellar-pg-template-");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            String password = "pw-" + UUID.randomUUID();
            initdb(binaries, dir.resolve("data"), password, dir);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> OsProcess.deleteTree(dir)));
            return new Template(dir.resolve("data"), password);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void initdb(PostgresBinaries binaries, Path data, String password, Path workDir) throws IOException {
        Path pwfile = workDir.resolve("pwfile");
        Files.writeString(pwfile, password + "\n");
        OsProcess.chownToPostgres(workDir);
        OsProcess.runAsPostgres(List.of(binaries.tool("initdb").toString(), "-D", data.toString(), "-U", SUPERUSER,
                "--pwfile=" + pwfile, "--auth-local=trust", "--auth-host=scram-sha-256", "--data-checksums",
                "--encoding=UTF8", "--locale=C", "--no-sync"), workDir, 180);
        Files.delete(pwfile);
    }

    private void configure(Spec spec) throws IOException {
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("listen_addresses", "'127.0.0.1'");
        conf.put("unix_socket_directories", "'" + base + "'");
        conf.put("wal_level", "replica");
        conf.put("archive_mode", "on");
        conf.put("archive_command", spec.archiving
                ? "'" + base.resolve("bin/cellar-wal-archive") + " " + spool + " %p %f'"
                : "''");
        conf.put("archive_timeout", "0");
        conf.put("max_wal_senders", "4");
        conf.put("max_connections", "30");
        conf.put("shared_buffers", "32MB");
        conf.put("fsync", "off");
        conf.put("synchronous_commit", "off");
        conf.put("full_page_writes", "on");
        conf.put("logging_collector", "off");
        conf.put("log_min_messages", "warning");
        conf.put("password_encryption", "'scram-sha-256'");
        spec.settings.forEach((k, v) -> conf.put(k, v.matches("[0-9A-Za-z_.]+") ? v : "'" + v.replace("'", "''") + "'"));
        StringBuilder sb = new StringBuilder("\n# written by the Cellar test harness\n");
        conf.forEach((k, v) -> sb.append(k).append(" = ").append(v).append('\n'));
        Files.writeString(dataDir.resolve("postgresql.conf"), sb.toString(), StandardOpenOption.APPEND);
    }

    private void startServer() {
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            port = freePort();
            try {
                OsProcess.runAsPostgres(List.of(binaries.tool("pg_ctl").toString(), "-D", dataDir.toString(), "-l", base.resolve("server.log").toString(),
                        "-w", "-t", "60", "-o", "-p " + port + " -k " + base, "start"), base, 90);
                running = true;
                return;
            } catch (IllegalStateException e) {
                last = new IllegalStateException(e.getMessage() + "\n" + serverLog());
            }
        }
        throw last;
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A fresh directory, reachable by the PostgreSQL OS user, to restore a cluster into ({@code <base>/data});
     * hand it to {@link #adopt} afterwards, or delete it with {@link OsProcess#deleteTree}.
     */
    public static Path newBase() {
        try {
            Path base = Files.createTempDirectory("cellar-restored-");
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
            return base;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Starts the data directory {@code base/data} as it is (a restored cluster: its own recovery settings
     * apply) on a free port, as the PostgreSQL OS user. {@code password} is the superuser's (the one of the
     * cluster it was restored from). {@link #close} stops it and deletes {@code base}.
     */
    public static PostgresCluster adopt(PostgresBinaries binaries, Path base, String password) {
        PostgresCluster c = new PostgresCluster(binaries, base, password);
        try {
            OsProcess.chownToPostgres(base);
            c.startServer();
            return c;
        } catch (RuntimeException e) {
            OsProcess.deleteTree(base);
            throw e;
        }
    }

    /** Waits until the server accepts connections and has left recovery (a restored cluster promoted at its target). */
    public void awaitPromoted(int timeoutSeconds) {
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        String last = "";
        while (System.nanoTime() < deadline) {
            try (Connection c = connect(); Statement st = c.createStatement(); var rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
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
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("not promoted within " + timeoutSeconds + "s (" + last + ")\n" + serverLog());
    }

    /** A plain-text pg_dump of database {@code postgres}, without the random {@code \\restrict} lines newer pg_dump versions print. */
    public String pgDump() {
        Path pgDump = binaries.has("pg_dump") ? binaries.tool("pg_dump") : PostgresBinaries.requireLocal().tool("pg_dump");
        String out = OsProcess.runAsPostgres(List.of(pgDump.toString(), "-h", base.toString(), "-p", Integer.toString(port), "-U", SUPERUSER,
                "-d", "postgres", "--no-sync"), base, 120);
        StringBuilder sb = new StringBuilder();
        for (String line : out.split("\n")) {
            if (!line.startsWith("\\restrict") && !line.startsWith("\\unrestrict")) {
                sb.append(line).append('\n');
            }
        }
        return sb.toString();
    }

    /**
     * A streaming standby of this cluster (pg_basebackup -R over the Unix socket), started on a free port,
     * with the same archive_command: once promoted, it archives its new timeline into the same spool.
     */
    public PostgresCluster standby() {
        Path standbyBase = newBase();
        try {
            OsProcess.chownToPostgres(standbyBase);
            OsProcess.runAsPostgres(List.of(binaries.tool("pg_basebackup").toString(), "-h", base.toString(), "-p", Integer.toString(port),
                    "-U", SUPERUSER, "-D", standbyBase.resolve("data").toString(), "-R", "-X", "stream", "-c", "fast"), standbyBase, 180);
        } catch (RuntimeException e) {
            OsProcess.deleteTree(standbyBase);
            throw e;
        }
        PostgresCluster standby = new PostgresCluster(binaries, standbyBase, password);
        try {
            Files.createDirectories(standby.spool);
            standby.startServer();
            return standby;
        } catch (IOException | RuntimeException e) {
            OsProcess.deleteTree(standbyBase);
            throw new IllegalStateException(e);
        }
    }

    /** pg_ctl promote, waiting for the promotion. */
    public void promote() {
        OsProcess.runAsPostgres(List.of(binaries.tool("pg_ctl").toString(), "-D", dataDir.toString(), "-w", "-t", "60", "promote"), base, 90);
    }

    public String serverLog() {
        try {
            return Files.readString(base.resolve("server.log"));
        } catch (IOException e) {
            return "(no server log)";
        }
    }

    public PostgresBinaries binaries() {
        return binaries;
    }

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** The directory archive_command copies WAL into. */
    public Path spool() {
        return spool;
    }

    /** A scratch directory inside the cluster's own temporary tree, deleted with it. */
    public Path base() {
        return base;
    }

    /** The superuser's password (tests write it into pgpass files; it never goes into a URL). */
    public String password() {
        return password;
    }

    /** A pgjdbc URL without password, as operators write conninfo. */
    public String jdbcUrl(String user) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=" + user;
    }

    /** Writes a pgpass file with the given entries ({@code user -> password}) for this cluster, mode 0600. */
    public Path writePassfile(Path file, Map<String, String> passwords) throws IOException {
        List<String> lines = new ArrayList<>();
        passwords.forEach((user, pw) -> lines.add("127.0.0.1:" + port + ":*:" + user + ":" + pw));
        Files.write(file, lines);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    /** A superuser connection. */
    public Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", SUPERUSER);
        p.setProperty("password", password);
        return DriverManager.getConnection(jdbcUrl(SUPERUSER), p);
    }

    /** Runs SQL statements as the superuser. */
    public void execute(String... statements) {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** Runs a psql script file against this cluster over its Unix socket; needs local client binaries. */
    public String psqlFile(Path script, String... variables) {
        Path psql = binaries.has("psql") ? binaries.tool("psql") : PostgresBinaries.requireLocal().tool("psql");
        List<String> cmd = new ArrayList<>(List.of(psql.toString(), "-X", "-h", base.toString(), "-p", Integer.toString(port),
                "-U", SUPERUSER, "-d", "postgres", "-v", "ON_ERROR_STOP=1"));
        for (String v : variables) {
            cmd.add("-v");
            cmd.add(v);
        }
        // The checkout may not be readable by the PostgreSQL OS user: run a copy from our own tree.
        Path copy = base.resolve("script-" + UUID.randomUUID() + ".sql");
        try {
            Files.copy(script, copy);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        OsProcess.chownToPostgres(copy);
        cmd.add("-f");
        cmd.add(copy.toString());
        return OsProcess.runAsPostgres(cmd, base, 60);
    }

    /** Starts the server again after {@link #stop} (on a new free port). */
    public void startAgain() {
        if (!running) {
            startServer();
        }
    }

    public void stop() {
        if (running) {
            OsProcess.runAsPostgres(List.of(binaries.tool("pg_ctl").toString(), "-D", dataDir.toString(), "-m", "fast", "-w", "-t", "60", "stop"), base, 90);
            running = false;
        }
    }

    @Override
    public void close() {
        try {
            stop();
        } finally {
            OsProcess.deleteTree(base);
        }
    }
}
