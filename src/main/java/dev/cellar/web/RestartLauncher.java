package dev.cellar.web;

import dev.cellar.api.Cellar;
import dev.cellar.api.CellarException;
import dev.cellar.api.ExitCode;
import dev.cellar.jobs.ExecutionDetail;
import dev.cellar.jobs.ExecutionSummary;
import dev.cellar.jobs.JobHistory;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Restarts the page asks for ({@code POST /api/executions/{id}/restart}). A restart runs the whole
 * job, so it runs on a thread of its own; the request is answered once the new execution exists in
 * the job repository (or the restart was refused, or failed at once), within {@link #ANSWER_WITHIN_MS}.
 * The checks {@code cellar jobs restart} makes are made first, so a refusal comes back as an HTTP
 * error rather than as a log line.
 */
public class RestartLauncher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RestartLauncher.class);
    static final long ANSWER_WITHIN_MS = 3000;

    /** What {@code POST .../restart} answers with 202. {@code execution} is null when it had not been created yet. */
    public record Started(long restartOf, String job, String server, Long execution, String status, String message) {
    }

    private final Cellar cellar;
    private final JobHistory history;
    private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "cellar-web-restart");
        t.setDaemon(true);
        return t;
    });
    private final Set<Long> inFlight = ConcurrentHashMap.newKeySet();
    private final List<Runnable> onFinish;

    public RestartLauncher(Cellar cellar, JobHistory history, List<Runnable> onFinish) {
        this.cellar = cellar;
        this.history = history;
        this.onFinish = List.copyOf(onFinish);
    }

    /** Restarts in the background; the audit records {@code who} (the page's user), not serve's OS user. */
    public Started restart(long executionId, dev.cellar.audit.Actor who) {
        ExecutionSummary s = history.show(executionId).execution(); // NOT_FOUND (404) when unknown
        if (!ExecutionView.restartable(s.status())) {
            throw new CellarException(ExitCode.REFUSED, "execution " + executionId + " is " + s.status()
                    + "; only FAILED or STOPPED executions can be restarted");
        }
        if (!inFlight.add(executionId)) {
            throw new CellarException(ExitCode.BUSY, "execution " + executionId + " is being restarted already");
        }
        CompletableFuture<ExecutionDetail> run;
        try {
            run = CompletableFuture.supplyAsync(() -> {
                try {
                    log.info("Restarting {} execution {} of server {} (asked through the web page)", s.job(), executionId, s.server());
                    ExecutionDetail d = cellar.actingAs(who, () -> cellar.restartJob(executionId));
                    log.info("Restart of execution {}: execution {} ended {}", executionId, d.execution().id(), d.execution().status());
                    return d;
                } finally {
                    inFlight.remove(executionId);
                    onFinish.forEach(Runnable::run);
                }
            }, threads);
        } catch (RuntimeException e) {
            inFlight.remove(executionId);
            throw e;
        }
        run.whenComplete((d, e) -> {
            if (e != null) {
                log.warn("Restart of execution {} failed: {}", executionId, rootMessage(e));
            }
        });
        long deadline = System.currentTimeMillis() + ANSWER_WITHIN_MS;
        while (System.currentTimeMillis() < deadline) {
            try {
                ExecutionDetail d = run.get(100, TimeUnit.MILLISECONDS);
                return new Started(executionId, s.job(), s.server(), d.execution().id(), d.execution().status(),
                        "execution " + d.execution().id() + " ended " + d.execution().status());
            } catch (TimeoutException stillRunning) {
                Long created = newerExecution(s);
                if (created != null) {
                    return new Started(executionId, s.job(), s.server(), created, "STARTED", "restarted as execution " + created);
                }
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof CellarException ce) {
                    throw ce;
                }
                throw new CellarException(ExitCode.FAILED, "cannot restart execution " + executionId + ": " + rootMessage(cause), cause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return new Started(executionId, s.job(), s.server(), null, "STARTING", "restart of execution " + executionId + " is starting");
    }

    /** A newer execution of the same job instance (same job, server and identity), if the restart has created it. */
    private Long newerExecution(ExecutionSummary s) {
        for (ExecutionSummary e : history.list(new JobHistory.Filter(s.server(), s.job(), null, null, 20))) {
            if (e.id() > s.id() && e.identity().equals(s.identity())) {
                return e.id();
            }
        }
        return null;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    @Override
    public void close() {
        threads.shutdown();
    }
}
