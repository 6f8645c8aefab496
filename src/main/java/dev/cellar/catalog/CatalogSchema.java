package dev.cellar.catalog;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import javax.sql.DataSource;

/**
 * Cellar's own catalog tables (beside Spring Batch's and Quartz's): versioned migrations
 * {@code sql/catalog/<h2|postgresql>/V<n>__<name>.sql}, read from the class path (the jar; the
 * distribution ships the same files under {@code sql/catalog/} for a DBA who creates them by hand),
 * applied once each in version order and recorded in {@code CELLAR_SCHEMA_VERSION}. When every
 * migration is recorded a start costs one query. Two processes migrating at once are harmless: the
 * scripts use {@code IF NOT EXISTS}, and the loser of the race finds the version recorded.
 */
public final class CatalogSchema {

    /** Every migration, oldest first: version and name (the file is {@code V<version>__<name>.sql}). */
    static final List<Migration> MIGRATIONS = List.of(new Migration(1, "audit"));

    /** One migration file. */
    record Migration(int version, String name) {
        String resource(String database) {
            return "sql/catalog/" + database + "/V" + version + "__" + name + ".sql";
        }
    }

    private CatalogSchema() {
    }

    /** Creates what is missing; the latest version when done. */
    public static int ensure(DataSource dataSource) {
        try (Connection c = dataSource.getConnection()) {
            return ensure(c);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot prepare Cellar's catalog tables: " + e.getMessage(), e);
        }
    }

    static int ensure(Connection c) throws SQLException {
        String database = database(c);
        if (!tableExists(c, "CELLAR_SCHEMA_VERSION")) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS CELLAR_SCHEMA_VERSION (VERSION INT PRIMARY KEY, NAME VARCHAR(200) NOT NULL, "
                        + "INSTALLED_AT TIMESTAMP WITH TIME ZONE NOT NULL)");
            } catch (SQLException e) {
                if (!tableExists(c, "CELLAR_SCHEMA_VERSION")) {
                    throw e;
                }
            }
        }
        Set<Integer> applied = applied(c);
        int latest = 0;
        for (Migration m : MIGRATIONS) {
            latest = m.version();
            if (applied.contains(m.version())) {
                continue;
            }
            try {
                apply(c, m, database);
            } catch (SQLException e) {
                // Another process may have applied it meanwhile.
                if (!applied(c).contains(m.version())) {
                    throw new SQLException("migration " + m.resource(database) + " failed: " + e.getMessage(), e);
                }
            }
        }
        return latest;
    }

    private static void apply(Connection c, Migration m, String database) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            for (String statement : statements(read(m.resource(database)))) {
                s.execute(statement);
            }
            try (PreparedStatement p = c.prepareStatement("INSERT INTO CELLAR_SCHEMA_VERSION (VERSION, NAME, INSTALLED_AT) VALUES (?, ?, ?)")) {
                p.setInt(1, m.version());
                p.setString(2, m.name());
                p.setObject(3, OffsetDateTime.now(ZoneOffset.UTC));
                p.executeUpdate();
            }
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    private static Set<Integer> applied(Connection c) throws SQLException {
        Set<Integer> out = new TreeSet<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT VERSION FROM CELLAR_SCHEMA_VERSION")) {
            while (rs.next()) {
                out.add(rs.getInt(1));
            }
        }
        return out;
    }

    /** {@code h2} or {@code postgresql}: the directory of this database's migrations. */
    static String database(Connection c) throws SQLException {
        String product = c.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
        if (product.contains("h2")) {
            return "h2";
        }
        if (product.contains("postgres")) {
            return "postgresql";
        }
        throw new SQLException("unsupported catalog database: " + product + " (H2 or PostgreSQL)");
    }

    static String read(String resource) {
        try (InputStream in = CatalogSchema.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing from the class path: " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + resource + ": " + e.getMessage(), e);
        }
    }

    /** The statements of a script: {@code --} comment lines dropped, split at a {@code ;} that ends a line. */
    static List<String> statements(String script) {
        List<String> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : script.split("\n")) {
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("--")) {
                continue;
            }
            current.append(line).append('\n');
            if (t.endsWith(";")) {
                String s = current.toString().strip();
                out.add(s.substring(0, s.length() - 1));
                current.setLength(0);
            }
        }
        if (!current.toString().isBlank()) {
            out.add(current.toString().strip());
        }
        return out;
    }

    /** True when the catalog has this table (upper case as H2 stores it, or lower case as PostgreSQL does). */
    public static boolean tableExists(Connection c, String name) throws SQLException {
        DatabaseMetaData md = c.getMetaData();
        for (String candidate : new String[] {name, name.toLowerCase(Locale.ROOT)}) {
            try (ResultSet rs = md.getTables(null, null, candidate, new String[] {"TABLE", "BASE TABLE"})) {
                if (rs.next()) {
                    return true;
                }
            }
        }
        return false;
    }
}
