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

    /** The form of {@code hooks.timeout}: the same as every other duration setting ({@link AgeLimit}). */
    public static final String TIMEOUT_FORM = AgeLimit.EXPECTED_FORM;

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

    /** Parses a timeout, written like every other duration setting: {@code 30 SECONDS}, {@code 5 MINUTES}, {@code 1 HOUR}. */
    public static Duration parseTimeout(String text) {
        Duration d;
        try {
            d = AgeLimit.parse(text).duration();
        } catch (IllegalArgumentException e) {
            d = Duration.ZERO;
        }
        if (d.isZero()) {
            throw new IllegalArgumentException("'" + text + "' is not a timeout; expected " + TIMEOUT_FORM);
        }
        return d;
    }
}
