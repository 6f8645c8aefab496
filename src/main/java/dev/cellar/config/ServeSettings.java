package dev.cellar.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * {@code cellar.serve}: the scheduler daemon and its page.
 *
 * @param listenHost              the address the page, the JSON API and Actuator listen on (loopback by default)
 * @param listenPort              their port
 * @param user                    the basic-auth user; empty for no authentication (allowed on loopback only)
 * @param passwordFile            a file holding the basic-auth password (its first line)
 * @param threads                 Quartz worker threads: how many jobs (of different servers or kinds) run at once
 * @param misfireThreshold        a firing later than this is a misfire, handled by its job's misfire policy
 * @param shutdownTimeout         on SIGTERM, how long running jobs get to reach a checkpoint and stop
 * @param clusterCheckinInterval  with a PostgreSQL catalog: how often a node tells the others it is alive
 * @param acceptCommands          whether {@code serve} runs the {@code cellar backup} and {@code archive-wal} commands of its own OS user, sent on
 *                                {@code <cellar.home>/serve.sock}, in its JVM (design 2.2)
 */
public record ServeSettings(
        String listenHost,
        int listenPort,
        Optional<String> user,
        Optional<Path> passwordFile,
        int threads,
        Duration misfireThreshold,
        Duration shutdownTimeout,
        Duration clusterCheckinInterval,
        boolean acceptCommands) {

    public static final String DEFAULT_LISTEN = "127.0.0.1:7480";

    public static ServeSettings defaults() {
        return new ServeSettings("127.0.0.1", 7480, Optional.empty(), Optional.empty(), 4,
                Duration.ofSeconds(60), Duration.ofMinutes(5), Duration.ofSeconds(10), false);
    }

    /** True when the listen address is a loopback address (no one else can reach it). */
    public boolean listensOnLoopback() {
        String h = listenHost;
        return h.equals("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("[::1]");
    }
}
