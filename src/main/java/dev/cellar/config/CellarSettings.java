package dev.cellar.config;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The whole, validated configuration. Built only by {@link SettingsLoader}, so every instance has
 * passed validation.
 *
 * @param serve  {@code cellar serve}'s settings
 * @param source the file it was read from; empty when no file was found and defaults apply
 */
public record CellarSettings(
        Path home,
        CatalogSettings catalog,
        String repository,
        Map<String, ServerSettings> servers,
        ServeSettings serve,
        Optional<Path> source) {

    /** The named server, or a configuration error that lists the known ones. */
    public ServerSettings server(String name) {
        ServerSettings s = servers.get(name);
        if (s == null) {
            String known = servers.isEmpty()
                    ? "no servers are configured" + source.map(p -> " in " + p).orElse(" (no configuration file found; use --config FILE)")
                    : "known servers: " + String.join(", ", servers.keySet());
            throw new ConfigException("cellar.servers." + name, "no such server; " + known);
        }
        return s;
    }

    /** The repository URI, or a configuration error when none is configured. */
    public String requireRepository() {
        if (repository == null) {
            throw new ConfigException("cellar.repository", "missing; expected a repository URI such as file:///var/lib/cellar/repo or sftp://host/path");
        }
        return repository;
    }
}
