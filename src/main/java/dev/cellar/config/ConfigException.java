package dev.cellar.config;

/**
 * A configuration mistake. The message is one line that names the offending key and the expected
 * form, so an operator can fix the file without reading a stack trace.
 */
public class ConfigException extends RuntimeException {

    private final String key;

    public ConfigException(String key, String message) {
        super(key == null ? message : key + ": " + message);
        this.key = key;
    }

    /** The dotted key the mistake is about, e.g. {@code cellar.servers.main.retention}; null when not about one key. */
    public String key() {
        return key;
    }
}
