package dev.cellar.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs external commands for the test harness, as an unprivileged user when the JVM is root. */
public final class OsProcess {

    /** The unprivileged user that PostgreSQL runs as when tests run as root (initdb refuses root). */
    public static final String POSTGRES_USER = System.getProperty("cellar.test.pg-user", "postgres");

    private static final boolean ROOT = "root".equals(System.getProperty("user.name"));

    private OsProcess() {
    }

    public static boolean isRoot() {
        return ROOT;
    }

    /** The output of a finished command. */
    public record Result(int exitCode, String output) {
    }

    /** Runs a command as the PostgreSQL user (directly when not root) and returns its output; fails on a non-zero exit. */
    public static String runAsPostgres(List<String> command, Path workDir, int timeoutSeconds) {
        Result r = run(asPostgres(command), workDir, timeoutSeconds);
        if (r.exitCode() != 0) {
            throw new IllegalStateException("command failed (exit " + r.exitCode() + "): " + String.join(" ", command) + "\n" + r.output());
        }
        return r.output();
    }

    public static List<String> asPostgres(List<String> command) {
        if (!ROOT) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", POSTGRES_USER, "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    public static Result run(List<String> command, Path workDir, int timeoutSeconds) {
        try {
            Path log = Files.createTempFile("cellar-cmd", ".log");
            try {
                Process p = new ProcessBuilder(command)
                        .directory(workDir == null ? null : workDir.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(log.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .start();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException("timed out after " + timeoutSeconds + "s: " + String.join(" ", command));
                }
                return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(log);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Gives a directory tree to the PostgreSQL user (no-op when not root). */
    public static void chownToPostgres(Path path) {
        if (!ROOT) {
            return;
        }
        Result r = run(List.of("chown", "-R", POSTGRES_USER + ":", path.toString()), null, 60);
        if (r.exitCode() != 0) {
            throw new IllegalStateException("chown failed; does the OS user '" + POSTGRES_USER + "' exist? (the Debian postgresql package "
                    + "creates it; or set -Dcellar.test.pg-user)\n" + r.output());
        }
    }

    /** Deletes a tree whatever its owner (we are root or its owner). */
    public static void deleteTree(Path path) {
        if (path != null && Files.exists(path)) {
            run(List.of("rm", "-rf", path.toString()), null, 120);
        }
    }
}
