package dev.cellar.jobs;

import com.zaxxer.hikari.HikariDataSource;
import dev.cellar.catalog.CatalogDataSource;
import dev.cellar.catalog.CatalogUnavailableException;
import dev.cellar.config.CellarSettings;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * The catalog data source of a job context, opened on a thread of its own while Spring builds the context: opening
 * the embedded H2 database (creating it and the job repository's tables on first use) or connecting to a PostgreSQL
 * catalog is independent of the context's configuration and would otherwise wait for it, about 0.1 to 0.2 s of every
 * command that runs jobs.
 */
public final class CatalogOpening {

    private final CompletableFuture<HikariDataSource> opened;
    private boolean handedOver;

    private CatalogOpening(CompletableFuture<HikariDataSource> opened) {
        this.opened = opened;
    }

    /** Starts opening the catalog: a pool of {@code poolSize} connections, the job repository's schema ensured. */
    public static CatalogOpening start(CellarSettings settings, int poolSize) {
        CompletableFuture<HikariDataSource> opened = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                HikariDataSource ds;
                try {
                    ds = CatalogDataSource.open(settings, poolSize);
                } catch (RuntimeException e) {
                    throw new CatalogUnavailableException(settings.catalog().url(), e);
                }
                try {
                    JobRepositorySchema.ensure(ds);
                } catch (RuntimeException | Error e) {
                    ds.close();
                    throw e;
                }
                opened.complete(ds);
            } catch (Throwable e) {
                opened.completeExceptionally(e);
            }
        }, "cellar-catalog-open");
        t.setDaemon(true);
        t.start();
        return new CatalogOpening(opened);
    }

    /** The open catalog, waiting for it; a failure to open it is thrown here, as it was raised. */
    public synchronized HikariDataSource dataSource() {
        try {
            HikariDataSource ds = opened.get();
            handedOver = true;
            return ds;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while opening the catalog", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause.getMessage(), cause);
        }
    }

    /** Why the catalog could not be opened, once that is known; empty while it opens, or when it opened. */
    public java.util.Optional<CatalogUnavailableException> failure() {
        if (!opened.isCompletedExceptionally()) {
            return java.util.Optional.empty();
        }
        try {
            opened.join();
            return java.util.Optional.empty();
        } catch (java.util.concurrent.CompletionException e) {
            return e.getCause() instanceof CatalogUnavailableException u ? java.util.Optional.of(u) : java.util.Optional.empty();
        }
    }

    /**
     * Closes the data source when the context never took it (its start failed first); once handed over, the context
     * closes it.
     */
    public synchronized void abandon() {
        if (handedOver) {
            return;
        }
        handedOver = true;
        opened.thenAccept(HikariDataSource::close);
    }
}
