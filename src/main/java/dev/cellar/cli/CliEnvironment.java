package dev.cellar.cli;

import java.nio.file.Path;
import java.util.Map;

/** What the command line reads from its process: environment variables and the user's home. Tests pass their own. */
public record CliEnvironment(Map<String, String> variables, Path userHome) {

    public static CliEnvironment ofProcess() {
        return new CliEnvironment(System.getenv(), Path.of(System.getProperty("user.home")));
    }
}
