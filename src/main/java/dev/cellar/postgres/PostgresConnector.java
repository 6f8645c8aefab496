package dev.cellar.postgres;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * Opens JDBC connections to a PostgreSQL server. Passwords never travel through configuration or
 * logs: they come from {@code PGPASSWORD}, the server's {@code passfile}, {@code PGPASSFILE} or
 * {@code ~/.pgpass}, in that order, as libpq does.
 */
public final class PostgresConnector {

    private final Map<String, String> environment;
    private final Path userHome;

    public PostgresConnector(Map<String, String> environment, Path userHome) {
        this.environment = environment;
        this.userHome = userHome;
    }

    public static PostgresConnector fromProcess() {
        return new PostgresConnector(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /** Where and as whom a URL connects; parsed by pgjdbc itself so both agree. */
    public record Target(String host, int port, String database, String user) {
        @Override
        public String toString() {
            return user + "@" + host + ":" + port + "/" + database;
        }
    }

    public Target target(String url) {
        Properties p = org.postgresql.Driver.parseURL(url, new Properties());
        if (p == null) {
            throw new IllegalArgumentException("not a PostgreSQL JDBC URL: " + url);
        }
        String host = p.getProperty("PGHOST", "localhost").split(",")[0];
        int port = Integer.parseInt(p.getProperty("PGPORT", "5432").split(",")[0]);
        String user = p.getProperty("user", environment.getOrDefault("PGUSER", System.getProperty("user.name")));
        String db = p.getProperty("PGDBNAME", user);
        return new Target(host, port, db.isEmpty() ? user : db, user);
    }

    /**
     * Opens a connection.
     *
     * @param url      the server's conninfo (a pgjdbc URL without a password)
     * @param passfile the server's own password file, if configured
     */
    public Connection connect(String url, Optional<Path> passfile) throws SQLException {
        Target t = target(url);
        Properties props = new Properties();
        props.setProperty("user", t.user());
        password(t, passfile).ifPresent(pw -> props.setProperty("password", pw));
        props.setProperty("ApplicationName", "cellar");
        props.setProperty("connectTimeout", "10");
        props.setProperty("loginTimeout", "15");
        return DriverManager.getConnection(url, props);
    }

    /** The password libpq would use for this target, or empty (then the server may not need one). */
    public Optional<String> password(Target t, Optional<Path> passfile) {
        String env = environment.get("PGPASSWORD");
        if (env != null) {
            return Optional.of(env);
        }
        if (passfile.isPresent()) {
            Optional<String> pw = PgPassFile.read(passfile.get()).password(t.host(), t.port(), t.database(), t.user());
            if (pw.isPresent()) {
                return pw;
            }
        }
        Path file = environment.get("PGPASSFILE") != null ? Path.of(environment.get("PGPASSFILE")) : userHome.resolve(".pgpass");
        return PgPassFile.read(file).password(t.host(), t.port(), t.database(), t.user());
    }
}
