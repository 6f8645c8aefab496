package dev.cellar.audit;

import dev.cellar.catalog.CatalogSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The audit of operator (and scheduler) actions, in the catalog table {@code CELLAR_AUDIT}
 * (sql/catalog/*&#47;V1__audit.sql): one row per action, written when it ends, with who
 * ({@link Actor}), when, what, on which target, and the outcome, refusals included. Front ends
 * record through the {@code Cellar} facade; the scheduler records its own actions with
 * {@link Actor#scheduler()}.
 */
public final class AuditLog {

    private static final int TEXT = 2000;

    private final DataSource dataSource;

    /** An audit log on the catalog; creates {@code CELLAR_AUDIT} when it is missing. */
    public AuditLog(DataSource dataSource) {
        this.dataSource = dataSource;
        CatalogSchema.ensure(dataSource);
    }

    /** Records an action that ends now and took no noticeable time (the scheduler's own notes, tests). */
    public long record(Actor actor, String action, String server, String target, String detail, AuditOutcome outcome) {
        Instant now = Instant.now();
        return record(actor, action, server, target, detail, outcome, now, now);
    }

    /** Records an action; returns the row's id. */
    public long record(Actor actor, String action, String server, String target, String detail, AuditOutcome outcome,
                       Instant startedAt, Instant endedAt) {
        String sql = "INSERT INTO CELLAR_AUDIT (STARTED_AT, ENDED_AT, OS_USER, RUN_AS, HOST, PID, ACTION, SERVER, TARGET, DETAIL, OUTCOME, MESSAGE) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        try (Connection c = dataSource.getConnection(); PreparedStatement p = c.prepareStatement(sql, java.sql.Statement.RETURN_GENERATED_KEYS)) {
            p.setObject(1, OffsetDateTime.ofInstant(startedAt, ZoneOffset.UTC));
            p.setObject(2, OffsetDateTime.ofInstant(endedAt, ZoneOffset.UTC));
            p.setString(3, cut(actor.user(), 128));
            p.setString(4, cut(actor.runAs(), 128));
            p.setString(5, cut(actor.host(), 255));
            p.setLong(6, actor.pid());
            p.setString(7, cut(action, 64));
            p.setString(8, cut(server, 64));
            p.setString(9, cut(target, 512));
            p.setString(10, cut(detail, TEXT));
            p.setString(11, outcome.kind().label());
            p.setString(12, cut(oneLine(outcome.message()), TEXT));
            p.executeUpdate();
            if (!c.getAutoCommit()) {
                c.commit();
            }
            try (ResultSet keys = p.getGeneratedKeys()) {
                return keys.next() ? keys.getLong(1) : -1;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot record '" + action + "' in the audit table CELLAR_AUDIT: " + e.getMessage(), e);
        }
    }

    /** Which rows {@link #list} returns; null means any. */
    public record Filter(Instant since, String action, String server, String outcome, int limit) {
    }

    /** Rows, newest first. */
    public List<AuditEntry> list(Filter filter) {
        StringBuilder sql = new StringBuilder("SELECT ID, STARTED_AT, ENDED_AT, OS_USER, RUN_AS, HOST, PID, ACTION, SERVER, TARGET, DETAIL, OUTCOME, MESSAGE "
                + "FROM CELLAR_AUDIT WHERE 1 = 1");
        List<Object> args = new ArrayList<>();
        if (filter.since() != null) {
            sql.append(" AND STARTED_AT >= ?");
            args.add(OffsetDateTime.ofInstant(filter.since(), ZoneOffset.UTC));
        }
        if (filter.action() != null) {
            sql.append(" AND ACTION = ?");
            args.add(filter.action());
        }
        if (filter.server() != null) {
            sql.append(" AND SERVER = ?");
            args.add(filter.server());
        }
        if (filter.outcome() != null) {
            sql.append(" AND OUTCOME = ?");
            args.add(filter.outcome().toLowerCase(java.util.Locale.ROOT));
        }
        sql.append(" ORDER BY ID DESC");
        List<AuditEntry> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection(); PreparedStatement p = c.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
                p.setObject(i + 1, args.get(i));
            }
            p.setMaxRows(Math.max(filter.limit(), 1));
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    out.add(new AuditEntry(rs.getLong(1), instant(rs, 2), instant(rs, 3), rs.getString(4), rs.getString(5), rs.getString(6),
                            rs.getLong(7), rs.getString(8), rs.getString(9), rs.getString(10), rs.getString(11), rs.getString(12), rs.getString(13)));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the audit table CELLAR_AUDIT: " + e.getMessage(), e);
        }
        return out;
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    private static String oneLine(String s) {
        return s == null ? null : s.strip().replaceAll("\\s*\\R\\s*", " | ");
    }

    private static String cut(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }
}
