package dev.cellar.repository;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What the worker pools of backups and restores share: waiting for their tasks while reporting progress, a failed
 * task's own exception rethrown as it was, and stopping the workers.
 */
public final class ParallelWork {

    private ParallelWork() {
    }

    /** Rethrows a failed task's cause: an IOException or RuntimeException as itself, anything else wrapped. */
    public static IOException rethrow(ExecutionException e) throws IOException {
        Throwable cause = e.getCause();
        if (cause instanceof IOException io) {
            throw io;
        }
        if (cause instanceof RuntimeException re) {
            throw re;
        }
        throw new IOException(cause);
    }

    /**
     * Waits for each task in turn and returns their results in order. While any is unfinished, {@code everySecond}
     * runs on this thread about once a second, however fast single tasks end (not once the last has ended: the work
     * is done); what it throws (a stop request) ends the wait. A failed task's exception is rethrown as it was.
     */
    public static <T> List<T> awaitAll(List<? extends Future<? extends T>> tasks, Runnable everySecond) throws IOException {
        List<T> results = new ArrayList<>(tasks.size());
        long lastTick = System.nanoTime();
        for (int k = 0; k < tasks.size(); k++) {
            boolean done = false;
            while (!done) {
                try {
                    results.add(tasks.get(k).get(1, TimeUnit.SECONDS));
                    done = true;
                } catch (TimeoutException tick) {
                    // ticks below
                } catch (ExecutionException e) {
                    throw rethrow(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while waiting for the workers");
                }
                if (!(done && k == tasks.size() - 1) && System.nanoTime() - lastTick > 1_000_000_000L) {
                    everySecond.run();
                    lastTick = System.nanoTime();
                }
            }
        }
        return results;
    }

    /**
     * Interrupts the pool's workers and waits for them to end, {@code seconds} at most: once this returns after a
     * failure or a stop, no worker writes any more (a worker stuck longer in a write that ignores interrupts is not
     * waited for).
     */
    public static void stop(ExecutorService pool, int seconds) {
        pool.shutdownNow();
        try {
            pool.awaitTermination(seconds, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
