package dev.cellar.verify;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * The checks a verification restore runs on the restored, started cluster, from the SQL in
 * {@code sql/verify/}: every database that accepts connections is connected to; the catalog is
 * sane (no invalid index, relations with attributes: {@code catalog.sql}, every row a problem);
 * every user table is counted (so every heap page is read); and, where the {@code amcheck}
 * extension is available, B-tree indexes are checked with {@code bt_index_check}, smallest first,
 * within a time budget (what the budget did not reach is reported, not hidden).
 */
public final class RestoredClusterChecks {

    private final Path sqlDir;
    private final Duration amcheckBudget;

    public RestoredClusterChecks(Path sqlDir, Duration amcheckBudget) {
        this.sqlDir = sqlDir;
        this.amcheckBudget = amcheckBudget;
    }

    private String sql(String name) throws IOException {
        return Files.readString(sqlDir.resolve(name));
    }

    /** Runs every check against {@code jdbc:postgresql://127.0.0.1:PORT/<db>?user=postgres}. */
    public List<VerificationRecord.Check> run(int port) throws IOException {
        List<VerificationRecord.Check> out = new ArrayList<>();
        List<String> databases = new ArrayList<>();
        try (Connection c = connect(port, "postgres"); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql("databases.sql"))) {
            while (rs.next()) {
                databases.add(rs.getString(1));
            }
        } catch (SQLException e) {
            out.add(new VerificationRecord.Check("connect postgres", false, e.getMessage()));
            return out;
        }
        long deadline = System.nanoTime() + amcheckBudget.toNanos();
        for (String db : databases) {
            try (Connection c = connect(port, db); Statement st = c.createStatement()) {
                out.add(new VerificationRecord.Check("connect " + db, true, "connected"));
                List<String> problems = new ArrayList<>();
                try (ResultSet rs = st.executeQuery(sql("catalog.sql"))) {
                    while (rs.next()) {
                        problems.add(rs.getString(1));
                    }
                }
                out.add(new VerificationRecord.Check("catalog " + db, problems.isEmpty(), problems.isEmpty() ? "sane" : String.join("; ", problems)));
                List<String> tables = new ArrayList<>();
                try (ResultSet rs = st.executeQuery(sql("tables.sql"))) {
                    while (rs.next()) {
                        tables.add(rs.getString(1));
                    }
                }
                long rows = 0;
                String failed = null;
                for (String t : tables) {
                    try (ResultSet rs = st.executeQuery("SELECT count(*) FROM " + t)) {
                        rs.next();
                        rows += rs.getLong(1);
                    } catch (SQLException e) {
                        failed = t + ": " + e.getMessage();
                        break;
                    }
                }
                out.add(new VerificationRecord.Check("tables " + db, failed == null,
                        failed == null ? tables.size() + " tables, " + rows + " rows counted" : failed));
                out.add(amcheck(st, db, deadline));
            } catch (SQLException e) {
                out.add(new VerificationRecord.Check("connect " + db, false, e.getMessage()));
            }
        }
        return out;
    }

    private VerificationRecord.Check amcheck(Statement st, String db, long deadline) throws IOException, SQLException {
        try (ResultSet rs = st.executeQuery("SELECT 1 FROM pg_available_extensions WHERE name = 'amcheck'")) {
            if (!rs.next()) {
                return new VerificationRecord.Check("amcheck " + db, true, "skipped: the amcheck extension is not available");
            }
        }
        st.execute("CREATE EXTENSION IF NOT EXISTS amcheck"); // in the scratch copy only
        List<String> indexes = new ArrayList<>();
        try (ResultSet rs = st.executeQuery(sql("amcheck.sql"))) {
            while (rs.next()) {
                indexes.add(rs.getString(1));
            }
        }
        int checked = 0;
        for (String index : indexes) {
            if (System.nanoTime() > deadline) {
                return new VerificationRecord.Check("amcheck " + db, true, checked + " of " + indexes.size()
                        + " B-tree indexes checked; the time budget ended before the rest");
            }
            try (ResultSet rs = st.executeQuery("SELECT bt_index_check('" + index.replace("'", "''") + "'::regclass)")) {
                rs.next();
                checked++;
            } catch (SQLException e) {
                return new VerificationRecord.Check("amcheck " + db, false, index + ": " + e.getMessage());
            }
        }
        return new VerificationRecord.Check("amcheck " + db, true, checked + " B-tree indexes checked");
    }

    private static Connection connect(int port, String db) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + db + "?user=postgres", new Properties());
    }
}
