package dev.cellar.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.awaitility.Awaitility;

/** A {@code cellar serve} process of the built distribution, its log in a file; stopped by its own PID. */
public final class ServeProcess implements AutoCloseable {

    static final Path DIST = Path.of(System.getProperty("cellar.dist", "target/cellar"));
    private static final Pattern FIRED = Pattern.compile("Fired (\\S+) for (\\S+) scheduled (\\S+)(.*) on node (\\S+): (\\S+)(?: execution (\\d+))?");

    private final Process process;
    private final Path log;

    private ServeProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** Starts {@code cellar --config CONFIG serve --no-web} and waits until it serves. */
    public static ServeProcess start(Path config, Path log) throws IOException {
        return start(config, log, java.util.Map.of());
    }

    /** As {@link #start(Path, Path)}, with more environment variables (e.g. {@code CELLAR_JAVA_OPTS=-Dcellar.host=node-a}). */
    public static ServeProcess start(Path config, Path log, java.util.Map<String, String> env) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(DIST.resolve("bin/cellar").toString(), "--config", config.toString(), "serve", "--no-web")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(env);
        Process p = builder.start();
        ServeProcess serve = new ServeProcess(p, log);
        Awaitility.await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100))
                .until(() -> !p.isAlive() || serve.log().contains("Serving "));
        if (!p.isAlive()) {
            throw new IllegalStateException("cellar serve exited " + p.exitValue() + ":\n" + serve.log());
        }
        return serve;
    }

    /** Waits for a condition; on timeout, fails with this process's log. */
    public void await(Duration atMost, java.util.concurrent.Callable<Boolean> condition) throws IOException {
        try {
            Awaitility.await().atMost(atMost).pollInterval(Duration.ofMillis(200)).until(condition);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(e.getMessage() + "\n--- cellar serve log\n" + log(), e);
        }
    }

    public long pid() {
        return process.pid();
    }

    public String log() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    /** SIGTERM, then waits for the process to end; returns its exit code. */
    public int sigterm() throws InterruptedException, IOException {
        process.destroy();
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            String threads;
            try {
                Process jstack = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jstack").toString(), Long.toString(process.pid()))
                        .redirectErrorStream(true).start();
                threads = new String(jstack.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
                jstack.waitFor(30, TimeUnit.SECONDS);
            } catch (IOException e) {
                threads = "(jstack: " + e.getMessage() + ")";
            }
            process.destroyForcibly().waitFor();
            throw new IllegalStateException("cellar serve did not stop within 120 s of SIGTERM\n--- log\n" + log() + "\n--- threads\n" + threads);
        }
        return process.exitValue();
    }

    /** SIGKILL, reaped at once (a zombie would still look alive to the other node). */
    public void kill9() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** One "Fired ..." line of the log. */
    public record Firing(String job, String server, String scheduled, String note, String node, String status, Long execution) {
    }

    public List<Firing> firings() throws IOException {
        return firings(log());
    }

    public static List<Firing> firings(String log) {
        List<Firing> out = new java.util.ArrayList<>();
        for (String line : log.split("\n")) {
            Matcher m = FIRED.matcher(line);
            if (m.find()) {
                out.add(new Firing(m.group(1), m.group(2), m.group(3), m.group(4), m.group(5), m.group(6),
                        m.group(7) == null ? null : Long.parseLong(m.group(7))));
            }
        }
        return out;
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly().waitFor();
        }
    }
}
