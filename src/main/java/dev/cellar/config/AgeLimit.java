package dev.cellar.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** An age written the way Barman writes it: {@code 30 SECONDS}, {@code 30 MINUTES}, {@code 1 DAY}, {@code 2 WEEKS}. */
public record AgeLimit(Duration duration, String text) {

    public static final String EXPECTED_FORM = "\"<n> SECONDS|MINUTES|HOURS|DAYS|WEEKS\" (e.g. \"1 DAY\")";

    private static final Pattern FORM = Pattern.compile("(\\d{1,6})\\s*(SECOND|SECONDS|MINUTE|MINUTES|HOUR|HOURS|DAY|DAYS|WEEK|WEEKS)");

    public static AgeLimit parse(String text) {
        Matcher m = FORM.matcher(text == null ? "" : text.trim().toUpperCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not an age; expected " + EXPECTED_FORM);
        }
        long n = Long.parseLong(m.group(1));
        Duration d = switch (m.group(2).replaceAll("S$", "")) {
            case "SECOND" -> Duration.ofSeconds(n);
            case "MINUTE" -> Duration.ofMinutes(n);
            case "HOUR" -> Duration.ofHours(n);
            case "DAY" -> Duration.ofDays(n);
            default -> Duration.ofDays(7 * n);
        };
        return new AgeLimit(d, text.trim());
    }

    @Override
    public String toString() {
        return text;
    }
}
