package dev.cellar.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A non-exclusive base backup session: {@code pg_backup_start} on a connection that must stay
 * open until {@code pg_backup_stop} (PostgreSQL ends the session when the connection closes).
 * Uses {@code pg_start_backup}/{@code pg_stop_backup} on 13 and 14.
 */
public final class BackupSession implements AutoCloseable {

    private final Connection connection;
    private final int major;
    private final Lsn startLsn;
    private final int startTimeline;
    private boolean stopped;

    /** What pg_backup_stop returns. */
    public record Stop(Lsn stopLsn, String backupLabel, String tablespaceMap, int timeline, Lsn startLsn) {
    }

    /**
     * Cluster facts a backup records.
     *
     * @param timeline             the timeline of the last checkpoint (it lags a promotion until the next checkpoint)
     * @param blockSize            {@code block_size} (8192 unless PostgreSQL was built otherwise)
     * @param relationSegmentBlocks {@code segment_size} in blocks: the blocks of one relation segment file (131072)
     */
    public record ClusterInfo(int major, String systemIdentifier, long walSegmentSize, boolean dataChecksums, int timeline,
                              int blockSize, long relationSegmentBlocks) {
    }

    private BackupSession(Connection connection, int major, Lsn startLsn, int startTimeline) {
        this.connection = connection;
        this.major = major;
        this.startLsn = startLsn;
        this.startTimeline = startTimeline;
    }

    public static ClusterInfo clusterInfo(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_setting('server_version_num')::int / 10000, "
                     + "(SELECT system_identifier::text FROM pg_control_system()), "
                     + "(SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'), "
                     + "current_setting('data_checksums') = 'on', "
                     + "(SELECT timeline_id FROM pg_control_checkpoint()), "
                     + "current_setting('block_size')::int, "
                     + "(SELECT setting::bigint FROM pg_settings WHERE name = 'segment_size')")) {
            rs.next();
            return new ClusterInfo(rs.getInt(1), rs.getString(2), rs.getLong(3), rs.getBoolean(4), rs.getInt(5), rs.getInt(6), rs.getLong(7));
        }
    }

    /** Starts the backup; the session owns the connection from now on. */
    public static BackupSession start(Connection c, String label, boolean fastCheckpoint) throws SQLException {
        int major = clusterInfo(c).major();
        String sql = major >= 15 ? "SELECT pg_backup_start(?, ?)::text" : "SELECT pg_start_backup(?, ?, false)::text";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, label);
            ps.setBoolean(2, fastCheckpoint);
            Lsn start;
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                start = Lsn.parse(rs.getString(1));
            }
            // The start's checkpoint (fast, waited for) is now pg_control's: its timeline is the start's, also right
            // after a promotion, when the timeline of an earlier look may still be the old one.
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT timeline_id FROM pg_control_checkpoint()")) {
                rs.next();
                return new BackupSession(c, major, start, rs.getInt(1));
            }
        }
    }

    public Lsn startLsn() {
        return startLsn;
    }

    /** The timeline the backup starts on (backup_label's START TIMELINE, known before the stop). */
    public int startTimeline() {
        return startTimeline;
    }

    /** Ends the backup without waiting for WAL archiving (the wait-wal step checks Cellar's own archive). */
    public Stop stop() throws SQLException {
        String sql = major >= 15 ? "SELECT lsn::text, labelfile, spcmapfile FROM pg_backup_stop(false)"
                : "SELECT lsn::text, labelfile, spcmapfile FROM pg_stop_backup(false, false)";
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            stopped = true;
            String label = rs.getString(2);
            return new Stop(Lsn.parse(rs.getString(1)), label, rs.getString(3), timeline(label), startLsn);
        }
    }

    private static final Pattern TIMELINE = Pattern.compile("(?m)^START TIMELINE: (\\d+)$");

    static int timeline(String backupLabel) {
        Matcher m = TIMELINE.matcher(backupLabel);
        if (!m.find()) {
            throw new IllegalStateException("backup_label has no START TIMELINE line:\n" + backupLabel);
        }
        return Integer.parseInt(m.group(1));
    }

    /** Closes the connection; a session not stopped is thereby aborted by PostgreSQL. */
    @Override
    public void close() throws SQLException {
        connection.close();
    }

    public boolean stopped() {
        return stopped;
    }
}
