package dev.cellar.restore;

import dev.cellar.postgres.Lsn;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.List;

/**
 * Where recovery stops: one of PostgreSQL's recovery targets. Each knows the settings it writes
 * into {@code postgresql.auto.conf} and how it reads on the command line.
 */
public sealed interface RecoveryTarget {

    /** The settings lines for postgresql.auto.conf (without the timeline, action and inclusive settings). */
    List<String> settings();

    /** How an operator reads it: {@code time 2026-11-27 03:00:00+00}. */
    String describe();

    /** Stop as soon as the backup is consistent: {@code recovery_target = 'immediate'}. */
    record Immediate() implements RecoveryTarget {
        public List<String> settings() {
            return List.of("recovery_target = 'immediate'");
        }

        public String describe() {
            return "immediate (end of the backup)";
        }
    }

    /** {@code recovery_target_time}: compared with commit and abort times. */
    record Time(Instant at) implements RecoveryTarget {
        private static final DateTimeFormatter PG = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS'+00'").withZone(ZoneOffset.UTC);

        public List<String> settings() {
            return List.of("recovery_target_time = '" + PG.format(at) + "'");
        }

        public String describe() {
            return "time " + PG.format(at);
        }
    }

    /** {@code recovery_target_lsn}. */
    record AtLsn(Lsn lsn) implements RecoveryTarget {
        public List<String> settings() {
            return List.of("recovery_target_lsn = '" + lsn + "'");
        }

        public String describe() {
            return "LSN " + lsn;
        }
    }

    /** {@code recovery_target_xid}: the commit (or abort) of this transaction. */
    record Xid(long xid) implements RecoveryTarget {
        public List<String> settings() {
            return List.of("recovery_target_xid = '" + xid + "'");
        }

        public String describe() {
            return "transaction " + xid;
        }
    }

    /** {@code recovery_target_name}: a restore point made with {@code pg_create_restore_point}. */
    record Name(String name) implements RecoveryTarget {
        public List<String> settings() {
            // postgresql.conf strings treat a backslash as an escape (GUC_scanstr): double it, as ALTER SYSTEM does.
            return List.of("recovery_target_name = '" + name.replace("\\", "\\\\").replace("'", "''") + "'");
        }

        public String describe() {
            return "restore point '" + name + "'";
        }
    }

    /** A time with its zone. Accepts ISO 8601 ({@code 2026-11-27T03:00:00Z}, {@code ...+01:00}) and PostgreSQL's form ({@code 2026-11-27 03:00:00.5+00}). */
    static Time parseTime(String text) {
        DateTimeFormatter withZone = new DateTimeFormatterBuilder()
                .appendPattern("yyyy-MM-dd").optionalStart().appendLiteral('T').optionalEnd().optionalStart().appendLiteral(' ').optionalEnd()
                .appendPattern("HH:mm:ss").optionalStart().appendFraction(ChronoField.NANO_OF_SECOND, 1, 9, true).optionalEnd()
                .optionalStart().appendLiteral(' ').optionalEnd()
                .appendOffset("+HH:MM:ss", "Z").toFormatter();
        String t = text.trim();
        try {
            return new Time(OffsetDateTime.parse(t, withZone).toInstant());
        } catch (DateTimeParseException e) {
            try {
                return new Time(OffsetDateTime.parse(t.replaceFirst("([+-]\\d\\d)$", "$1:00"), withZone).toInstant());
            } catch (DateTimeParseException e2) {
                if (t.matches("\\d{4}-\\d\\d-\\d\\d[T ]\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?")) {
                    throw new IllegalArgumentException("--target-time '" + text + "' has no time zone; a time without one is ambiguous. "
                            + "Add the zone, e.g. '" + t + "Z' for UTC or '" + t + "+01:00'");
                }
                throw new IllegalArgumentException("--target-time '" + text + "' is not a timestamp; expected e.g. 2026-11-27T03:00:00Z or '2026-11-27 03:00:00+01'");
            }
        }
    }

    static Xid parseXid(String text) {
        try {
            long xid = Long.parseLong(text.trim());
            if (xid < 3 || xid > 0xFFFFFFFFL) {
                throw new NumberFormatException();
            }
            return new Xid(xid);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--target-xid '" + text + "' is not a transaction id (a number from 3 to 4294967295)");
        }
    }

    static AtLsn parseLsn(String text) {
        return new AtLsn(Lsn.parse(text.trim()));
    }

    static Name parseName(String text) {
        if (text.isEmpty() || text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length >= 64) {
            throw new IllegalArgumentException("--target-name must be 1 to 63 bytes (PostgreSQL's restore point names are)");
        }
        if (text.chars().anyMatch(c -> c < 0x20 || c == 0x7F)) {
            throw new IllegalArgumentException("--target-name must not contain control characters (postgresql.auto.conf cannot hold them)");
        }
        return new Name(text);
    }

    /**
     * The target from the command line's options, at most one of which may be given; none (null)
     * means: replay all archived WAL (Barman's default).
     */
    static RecoveryTarget of(String time, String lsn, String xid, String name, boolean immediate) {
        int given = (time != null ? 1 : 0) + (lsn != null ? 1 : 0) + (xid != null ? 1 : 0) + (name != null ? 1 : 0) + (immediate ? 1 : 0);
        if (given > 1) {
            throw new IllegalArgumentException("give at most one recovery target (--target-time, --target-lsn, --target-xid, --target-name, --target-immediate)");
        }
        if (time != null) {
            return parseTime(time);
        }
        if (lsn != null) {
            return parseLsn(lsn);
        }
        if (xid != null) {
            return parseXid(xid);
        }
        if (name != null) {
            return parseName(name);
        }
        return immediate ? new Immediate() : null;
    }

    /** The parameter form a job keeps: {@code time:<instant>}, {@code lsn:X/X}, {@code xid:N}, {@code name:S}, {@code immediate}, or {@code end}. */
    static String encode(RecoveryTarget t) {
        if (t == null) {
            return "end";
        }
        if (t instanceof Time time) {
            return "time:" + time.at();
        }
        if (t instanceof AtLsn l) {
            return "lsn:" + l.lsn();
        }
        if (t instanceof Xid x) {
            return "xid:" + x.xid();
        }
        if (t instanceof Name n) {
            return "name:" + n.name();
        }
        return "immediate";
    }

    static RecoveryTarget decode(String s) {
        if (s.equals("end")) {
            return null;
        }
        if (s.equals("immediate")) {
            return new Immediate();
        }
        int colon = s.indexOf(':');
        String kind = s.substring(0, colon);
        String value = s.substring(colon + 1);
        return switch (kind) {
            case "time" -> new Time(Instant.parse(value));
            case "lsn" -> new AtLsn(Lsn.parse(value));
            case "xid" -> new Xid(Long.parseLong(value));
            case "name" -> new Name(value);
            default -> throw new IllegalArgumentException("unknown recovery target " + s);
        };
    }
}
