package dev.cellar.config;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A server's hooks ({@code cellar.servers.<name>.hooks}), like Barman's pre/post scripts: for each
 * hook name an argument array (program first), run without a shell; and one timeout for all of them.
 *
 * @param timeout  how long a hook may run before it and the processes it started are killed
 * @param commands argument arrays by hook name ({@link #NAMES}); absent names have no hook
 */
public record HookSettings(Duration timeout, Map<String, List<String>> commands) {

    /** The hook names, in the order the documentation lists them. */
    public static final List<String> NAMES = List.of("pre-backup", "post-backup", "pre-archive", "post-archive",
            "pre-recovery", "post-recovery", "pre-delete", "post-delete");

    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5);

    /** The form of {@code hooks.timeout}. */
    public static final String TIMEOUT_FORM = "\"<n> SECONDS|MINUTES|HOURS\" (e.g. \"5 MINUTES\")";

    public HookSettings {
        commands = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(commands));
    }

    /** No hooks. */
    public static HookSettings none() {
        return new HookSettings(DEFAULT_TIMEOUT, Map.of());
    }

    /** The argument array of a hook, when one is configured. */
    public Optional<List<String>> command(String name) {
        return Optional.ofNullable(commands.get(name));
    }

    /** Parses a timeout: Barman's words, with seconds too (a hook is often short). */
    public static Duration parseTimeout(String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,6})\\s*(SECOND|SECONDS|MINUTE|MINUTES|HOUR|HOURS)")
                .matcher(text == null ? "" : text.trim().toUpperCase(java.util.Locale.ROOT));
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
            throw new IllegalArgumentException("'" + text + "' is not a timeout; expected " + TIMEOUT_FORM);
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2).replaceAll("S$", "")) {
            case "SECOND" -> Duration.ofSeconds(n);
            case "MINUTE" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }
}
