package dev.cellar.retention;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A retention policy in Barman's syntax: {@code REDUNDANCY n} or
 * {@code RECOVERY WINDOW OF n DAYS|WEEKS|MONTHS} (a month is 31 days, as in Barman).
 */
public sealed interface RetentionPolicy {

    /** The form operators write, for error messages and documentation. */
    String EXPECTED_FORM = "\"REDUNDANCY <n>\" or \"RECOVERY WINDOW OF <n> DAYS|WEEKS|MONTHS\"";

    /** Keep the newest {@code count} backups. */
    record Redundancy(int count) implements RetentionPolicy {
        public Redundancy {
            if (count < 1) {
                throw new IllegalArgumentException("redundancy must be at least 1, got " + count);
            }
        }

        @Override
        public String toString() {
            return "REDUNDANCY " + count;
        }
    }

    /** Keep whatever is needed to recover to any point within {@code window} of now. */
    record RecoveryWindow(int amount, Unit unit) implements RetentionPolicy {
        public RecoveryWindow {
            if (amount < 1) {
                throw new IllegalArgumentException("recovery window must be at least 1, got " + amount);
            }
        }

        public Duration window() {
            return Duration.ofDays((long) amount * unit.days);
        }

        @Override
        public String toString() {
            return "RECOVERY WINDOW OF " + amount + " " + unit;
        }
    }

    enum Unit {
        DAYS(1), WEEKS(7), MONTHS(31);

        final int days;

        Unit(int days) {
            this.days = days;
        }
    }

    Pattern REDUNDANCY = Pattern.compile("REDUNDANCY\\s+(\\d{1,6})");
    Pattern WINDOW = Pattern.compile("RECOVERY\\s+WINDOW\\s+OF\\s+(\\d{1,6})\\s+(DAY|DAYS|WEEK|WEEKS|MONTH|MONTHS)");

    /**
     * Parses a policy, case-insensitively.
     *
     * @throws IllegalArgumentException naming the expected form when the text is not a policy
     */
    static RetentionPolicy parse(String text) {
        String normalized = text == null ? "" : text.trim().toUpperCase(Locale.ROOT);
        Matcher m = REDUNDANCY.matcher(normalized);
        if (m.matches()) {
            return new Redundancy(Integer.parseInt(m.group(1)));
        }
        m = WINDOW.matcher(normalized);
        if (m.matches()) {
            String unit = m.group(2).endsWith("S") ? m.group(2) : m.group(2) + "S";
            return new RecoveryWindow(Integer.parseInt(m.group(1)), Unit.valueOf(unit));
        }
        throw new IllegalArgumentException("'" + text + "' is not a retention policy; expected " + EXPECTED_FORM);
    }
}
