package dev.cellar.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Job executions read straight from the catalog tables (no job context started, nothing recovered). */
public final class CatalogRows {

    /** One execution with its parameters. */
    public record Execution(long id, long instance, String job, String status, LocalDateTime start, LocalDateTime end, Map<String, String> parameters,
                            String context) {
    }

    private final String url;
    private final String user;
    private final String password;

    public CatalogRows(String url, String user, String password) {
        this.url = url;
        this.user = user;
        this.password = password;
    }

    /** The embedded H2 catalog under a cellar home. */
    public static CatalogRows h2(java.nio.file.Path home) {
        return new CatalogRows("jdbc:h2:file:" + home.resolve("catalog") + ";AUTO_SERVER=TRUE", "", "");
    }

    public List<Execution> executions(String job) throws SQLException {
        List<Execution> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url, user, password);
             PreparedStatement s = c.prepareStatement("SELECT e.JOB_EXECUTION_ID, e.JOB_INSTANCE_ID, i.JOB_NAME, e.STATUS, e.START_TIME, e.END_TIME,"
                     + " x.SHORT_CONTEXT FROM BATCH_JOB_EXECUTION e JOIN BATCH_JOB_INSTANCE i ON e.JOB_INSTANCE_ID = i.JOB_INSTANCE_ID"
                     + " LEFT JOIN BATCH_JOB_EXECUTION_CONTEXT x ON x.JOB_EXECUTION_ID = e.JOB_EXECUTION_ID"
                     + " WHERE i.JOB_NAME = ? ORDER BY e.JOB_EXECUTION_ID");
             PreparedStatement p = c.prepareStatement("SELECT PARAMETER_NAME, PARAMETER_VALUE FROM BATCH_JOB_EXECUTION_PARAMS WHERE JOB_EXECUTION_ID = ?")) {
            s.setString(1, job);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    Map<String, String> params = new HashMap<>();
                    p.setLong(1, id);
                    try (ResultSet pr = p.executeQuery()) {
                        while (pr.next()) {
                            params.put(pr.getString(1), pr.getString(2));
                        }
                    }
                    out.add(new Execution(id, rs.getLong(2), rs.getString(3), rs.getString(4),
                            rs.getTimestamp(5) == null ? null : rs.getTimestamp(5).toLocalDateTime(),
                            rs.getTimestamp(6) == null ? null : rs.getTimestamp(6).toLocalDateTime(), params, rs.getString(7)));
                }
            }
        }
        return out;
    }
}
