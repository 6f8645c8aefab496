package dev.cellar.cli;

import dev.cellar.api.Cellar;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Ctrl-C (SIGINT) or SIGTERM while a job-running verb runs a job in its own process: the job is asked to stop, as
 * {@code cellar jobs stop} would, so it ends STOPPED at its next checkpoint (a copy within about a second), releases
 * its lock and backup session, and the command prints the STOPPED execution and exits 1. A second signal, or one
 * that comes while this process runs no job, exits at once (130 for SIGINT, 143 for SIGTERM), as without this class.
 *
 * <p>Signals are handled before the JVM begins to exit, as {@code cellar serve} does: in a shutdown hook it would be
 * too late, as H2 closes an embedded catalog in its own. Not used for a command {@code cellar serve} runs (design 2.2):
 * serve handles its own signals, and the client's Ctrl-C stops the job there.
 */
final class InterruptStopsJob {

    private static final Map<String, Integer> EXIT_CODES = Map.of("INT", 130, "TERM", 143);

    private InterruptStopsJob() {
    }

    /** Runs {@code verb} with the handlers installed, then puts the previous handlers back. */
    static <T> T during(Cellar cellar, PrintWriter err, Callable<T> verb) throws Exception {
        AtomicBoolean asked = new AtomicBoolean();
        Map<Signal, SignalHandler> previous = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, Integer> e : EXIT_CODES.entrySet()) {
            Signal signal = new Signal(e.getKey());
            previous.put(signal, Signal.handle(signal, s -> new Thread(() -> interrupted(cellar, err, asked, e.getValue()),
                    "cellar-SIG" + e.getKey()).start()));
        }
        try {
            return verb.call();
        } finally {
            previous.forEach(Signal::handle);
        }
    }

    private static void interrupted(Cellar cellar, PrintWriter err, AtomicBoolean asked, int exitCode) {
        if (asked.getAndSet(true)) {
            System.exit(exitCode);
        }
        List<Long> stopping;
        try {
            stopping = cellar.startedJobs().map(r -> r.launcher().stopExecutionsOfThisProcess()).orElse(List.of());
        } catch (RuntimeException e) {
            err.println("cellar: cannot ask the running job to stop: " + e.getMessage());
            stopping = List.of();
        }
        if (stopping.isEmpty()) {
            System.exit(exitCode);
        }
        err.println("cellar: stopping execution " + stopping.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(", "))
                + " at its next checkpoint (STOPPED, restartable); interrupt again to quit at once");
        err.flush();
    }
}
