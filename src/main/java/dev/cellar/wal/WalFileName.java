package dev.cellar.wal;

import dev.cellar.postgres.Lsn;
import dev.cellar.postgres.WalSegmentName;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The name of a file PostgreSQL's {@code archive_command} hands over ({@code %f}), classified. Four kinds exist
 * (see {@code IsXLogFileName}, {@code IsPartialXLogFileName}, {@code IsBackupHistoryFileName} and
 * {@code IsTLHistoryFileName} in PostgreSQL's {@code access/xlog_internal.h}):
 * <ul>
 *   <li>{@link Kind#SEGMENT}: {@code 000000010000000000000002}, a WAL segment;</li>
 *   <li>{@link Kind#PARTIAL}: {@code 000000010000000000000005.partial}, the last, incomplete segment of the old
 *       timeline, archived at the end of archive recovery (promotion) and by {@code pg_receivewal};</li>
 *   <li>{@link Kind#BACKUP_HISTORY}: {@code 000000010000000000000002.00000028.backup}, written when a base backup
 *       stops, named after its start segment and the start location's offset in it;</li>
 *   <li>{@link Kind#TIMELINE_HISTORY}: {@code 00000002.history}, the history of a timeline, written when it starts.</li>
 * </ul>
 *
 * <p>Parsing is stricter than PostgreSQL's macros: hexadecimal must be upper case (PostgreSQL only ever writes
 * {@code %08X}), a backup history file's offset must be exactly eight hexadecimal digits (PostgreSQL writes
 * {@code %08X}; its own test accepts anything ending in {@code .backup}), and timelines must be 1 to 7FFFFFFF
 * (as for {@link WalSegmentName}). Anything else, such as the archive script's temporary files
 * ({@code .000000010000000000000002.tmp.123}), is not a WAL file name.
 *
 * <p><b>Order.</b> {@link #compareTo} orders by name, which for these fixed-width upper-case hexadecimal names is
 * WAL order: by timeline first; within a timeline its history file comes first ({@code 00000002.history} sorts
 * before {@code 000000020000000000000005}, because {@code '.'} sorts before the digits), then the segments by
 * (log, seg); for one segment, the full segment, then its backup history files (by offset), then its
 * {@code .partial}. A full segment and a {@code .partial} of the same name rarely both exist: at promotion
 * PostgreSQL archives {@code 000000010000000000000005.partial} while the new timeline continues in
 * {@code 000000020000000000000005} (a copy of the old segment up to the switch point), which sorts after the
 * partial file and after {@code 00000002.history}. The order is consistent with {@link #equals}.
 */
public final class WalFileName implements Comparable<WalFileName> {

    /** What a spooled file is. */
    public enum Kind {
        SEGMENT, PARTIAL, BACKUP_HISTORY, TIMELINE_HISTORY
    }

    private static final Pattern SEGMENT = Pattern.compile("[0-9A-F]{24}");
    private static final Pattern PARTIAL = Pattern.compile("([0-9A-F]{24})\\.partial");
    private static final Pattern BACKUP_HISTORY = Pattern.compile("([0-9A-F]{24})\\.([0-9A-F]{8})\\.backup");
    private static final Pattern TIMELINE_HISTORY = Pattern.compile("([0-9A-F]{8})\\.history");

    private final Kind kind;
    private final String name;
    private final int timeline;
    private final WalSegmentName segment;
    private final long backupOffset;

    private WalFileName(Kind kind, String name, int timeline, WalSegmentName segment, long backupOffset) {
        this.kind = kind;
        this.name = name;
        this.timeline = timeline;
        this.segment = segment;
        this.backupOffset = backupOffset;
    }

    /** Classifies a file name (no directory part); empty for anything that is not one of the four kinds. */
    public static Optional<WalFileName> parse(String name) {
        if (name == null || name.length() < 16 || name.length() > 40) {
            return Optional.empty();
        }
        if (SEGMENT.matcher(name).matches()) {
            return segmentOf(name).map(s -> new WalFileName(Kind.SEGMENT, name, s.timeline(), s, -1));
        }
        Matcher m = PARTIAL.matcher(name);
        if (m.matches()) {
            return segmentOf(m.group(1)).map(s -> new WalFileName(Kind.PARTIAL, name, s.timeline(), s, -1));
        }
        m = BACKUP_HISTORY.matcher(name);
        if (m.matches()) {
            long offset = Long.parseLong(m.group(2), 16);
            return segmentOf(m.group(1)).map(s -> new WalFileName(Kind.BACKUP_HISTORY, name, s.timeline(), s, offset));
        }
        m = TIMELINE_HISTORY.matcher(name);
        if (m.matches()) {
            long tli = Long.parseLong(m.group(1), 16);
            if (tli >= 1 && tli <= Integer.MAX_VALUE) {
                return Optional.of(new WalFileName(Kind.TIMELINE_HISTORY, name, (int) tli, null, -1));
            }
        }
        return Optional.empty();
    }

    private static Optional<WalSegmentName> segmentOf(String segmentName) {
        if (!WalSegmentName.isSegmentName(segmentName)) {
            return Optional.empty();
        }
        try {
            return Optional.of(WalSegmentName.parse(segmentName));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    public Kind kind() {
        return kind;
    }

    /** The file name exactly as given. */
    public String name() {
        return name;
    }

    /** The timeline in the name: the segment's, or the one a history file describes. */
    public int timeline() {
        return timeline;
    }

    /** The segment a {@code SEGMENT}, {@code PARTIAL} or {@code BACKUP_HISTORY} file names; empty for a timeline history file. */
    public Optional<WalSegmentName> segment() {
        return Optional.ofNullable(segment);
    }

    /** Whether the file holds WAL, so starts with a page header: a {@code SEGMENT} or a {@code PARTIAL}. */
    public boolean holdsWal() {
        return kind == Kind.SEGMENT || kind == Kind.PARTIAL;
    }

    /**
     * For a backup history file, the backup's start location: its segment's start plus the offset in the name
     * ({@code BackupHistoryFileName}). Throws when the offset cannot lie in a segment of that size.
     */
    public Optional<Lsn> backupStartLsn(long walSegmentSize) {
        if (kind != Kind.BACKUP_HISTORY) {
            return Optional.empty();
        }
        if (backupOffset >= WalSegmentName.checkSegmentSize(walSegmentSize)) {
            throw new IllegalArgumentException("backup history file " + name + " names offset " + Long.toHexString(backupOffset).toUpperCase()
                    + ", beyond a " + (walSegmentSize >> 20) + " MiB segment");
        }
        return Optional.of(segment.startLsn(walSegmentSize).plus(backupOffset));
    }

    /**
     * Where a repository files this: the directory {@code TTTTTTTTLLLLLLLL} (timeline and log, the first 16
     * characters) for segments, partial segments and backup history files; {@code ""}, the top level, for
     * timeline history files.
     */
    public String repositoryDirectory() {
        return segment == null ? "" : segment.timelineLog();
    }

    /** WAL order, which is name order: see the class comment. */
    @Override
    public int compareTo(WalFileName other) {
        return name.compareTo(other.name);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WalFileName w && w.name.equals(name);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name);
    }

    /** The file name. */
    @Override
    public String toString() {
        return name;
    }
}
