package dev.cellar.repository;

import java.io.IOException;
import java.util.concurrent.ExecutionException;

/** What the worker pools of backups and restores share: a failed task's own exception, rethrown as it was. */
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
}
