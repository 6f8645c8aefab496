package dev.cellar.hooks;

import dev.cellar.config.CellarSettings;
import dev.cellar.config.HookSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one server's hooks (docs/hooks.md), like Barman's pre/post scripts: the configured argument
 * array is executed directly (no shell: an argument is passed verbatim, spaces and quotes included),
 * with the process environment plus {@code CELLAR_*} variables describing the action, standard input
 * from /dev/null, and the server's {@code hooks.timeout}. A hook that runs past it is killed with
 * every process it started that still runs (by PID, from the process table; never by name).
 *
 * <p>A pre-hook that fails (non-zero exit or timeout) throws {@link HookFailedException}: the caller
 * aborts its action before changing anything. A post-hook's failure is returned as a warning: the
 * action has happened, and a completed backup stays completed.
 */
public final class HookRunner {

    private static final Logger log = LoggerFactory.getLogger(HookRunner.class);
    private static final int TAIL_LINES = 5;
    private static final int TAIL_CHARS = 600;

    private final String server;
    private final HookSettings hooks;
    private final Map<String, String> common;

    public HookRunner(CellarSettings settings, String server) {
        this.server = server;
        this.hooks = settings.server(server).hooks();
        this.common = new LinkedHashMap<>();
        common.put("CELLAR_SERVER", server);
        common.put("CELLAR_CONFIGURATION", settings.source().map(Path::toString).orElse(""));
        common.put("CELLAR_REPOSITORY", settings.repository() == null ? "" : settings.repository());
    }

    /** Whether this server has the hook. */
    public boolean has(Hook hook, Hook.Phase phase) {
        return hooks.command(hook.key(phase)).isPresent();
    }

    /**
     * Runs the pre-hook, when there is one.
     *
     * @throws HookFailedException when it exits non-zero or times out
     */
    public void pre(Hook hook, Map<String, String> variables) {
        Optional<HookResult> r = run(hook, Hook.Phase.PRE, variables);
        if (r.isPresent() && !r.get().succeeded()) {
            throw new HookFailedException(r.get());
        }
    }

    /**
     * Runs the post-hook, when there is one, also after a failed action.
     *
     * @param status what the action came to: COMPLETED, FAILED, STOPPED... (CELLAR_STATUS)
     * @param error  the one-line cause when it failed, else null (CELLAR_ERROR)
     * @return a warning (the hook's failure, one line) when it failed
     */
    public Optional<String> post(Hook hook, String status, String error, Map<String, String> variables) {
        Map<String, String> vars = new LinkedHashMap<>(variables);
        vars.put("CELLAR_STATUS", status);
        vars.put("CELLAR_ERROR", error == null ? "" : error);
        Optional<HookResult> r = run(hook, Hook.Phase.POST, vars);
        if (r.isPresent() && !r.get().succeeded()) {
            log.warn("{} (the {} itself is not affected)", r.get().describe(), hook.label());
            return Optional.of(r.get().describe());
        }
        return Optional.empty();
    }

    private Optional<HookResult> run(Hook hook, Hook.Phase phase, Map<String, String> variables) {
        String name = hook.key(phase);
        Optional<List<String>> command = hooks.command(name);
        if (command.isEmpty()) {
            return Optional.empty();
        }
        Map<String, String> env = new LinkedHashMap<>(common);
        env.put("CELLAR_HOOK", hook.label());
        env.put("CELLAR_PHASE", phase.label());
        variables.forEach((k, v) -> env.put(k, v == null ? "" : v));
        return Optional.of(run(name, command.get(), env, hooks.timeout()));
    }

    /** Runs one command to its end or its timeout. Visible for tests. */
    static HookResult run(String name, List<String> command, Map<String, String> variables, Duration timeout) {
        long start = System.nanoTime();
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("cellar-hook-", ".out");
            err = Files.createTempFile("cellar-hook-", ".err");
            ProcessBuilder pb = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            pb.environment().putAll(variables);
            log.info("Running the {} hook of server {}: {}", name, variables.get("CELLAR_SERVER"), command);
            Process p;
            try {
                p = pb.start();
            } catch (IOException e) {
                return new HookResult(name, command, 127, false, 0, "cannot run it: " + e.getMessage(), elapsed(start));
            }
            boolean exited = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            int killed = 0;
            if (!exited) {
                killed = killTree(p);
            }
            String stdout = Files.readString(out, StandardCharsets.UTF_8);
            String stderr = Files.readString(err, StandardCharsets.UTF_8);
            stdout.lines().forEach(l -> log.info("{} hook: {}", name, l));
            stderr.lines().forEach(l -> log.warn("{} hook (stderr): {}", name, l));
            // A hook killed at its timeout is reported with the timeout it broke.
            return new HookResult(name, command, exited ? p.exitValue() : -1, !exited, killed, tail(stderr), exited ? elapsed(start) : timeout);
        } catch (IOException e) {
            return new HookResult(name, command, 127, false, 0, "cannot run it: " + e.getMessage(), elapsed(start));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new HookResult(name, command, -1, false, 0, "interrupted", elapsed(start));
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    /**
     * Kills the hook and every process it started: the descendants are listed first (once the hook is
     * gone they would be re-parented and no longer known as its own), then killed, deepest first.
     */
    private static int killTree(Process p) throws InterruptedException {
        List<ProcessHandle> tree = new ArrayList<>(p.descendants().toList());
        java.util.Collections.reverse(tree);
        p.destroyForcibly();
        int killed = 1;
        for (ProcessHandle h : tree) {
            if (h.destroyForcibly()) {
                killed++;
            }
        }
        p.waitFor(10, TimeUnit.SECONDS);
        for (ProcessHandle h : tree) {
            try {
                h.onExit().get(5, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                log.warn("process {} started by a hook did not exit after SIGKILL", h.pid());
            }
        }
        return killed;
    }

    static String tail(String text) {
        List<String> lines = text.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        String joined = String.join(" | ", lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()));
        return joined.length() <= TAIL_CHARS ? joined : "…" + joined.substring(joined.length() - TAIL_CHARS);
    }

    private static Duration elapsed(long start) {
        return Duration.ofNanos(System.nanoTime() - start);
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                log.debug("cannot delete {}: {}", p, e.toString());
            }
        }
    }

    /** The server these hooks belong to. */
    public String server() {
        return server;
    }
}
