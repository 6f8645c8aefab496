package dev.cellar.backup;

import dev.cellar.config.Compression;
import dev.cellar.repository.FrameCompressor;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The threads that compress frames while the readers go on reading and hashing. Each thread keeps one
 * {@link FrameCompressor} (a compression context and output buffer) for its whole life and closes it when the pool
 * is closed.
 */
public final class FrameCompressionPool implements AutoCloseable {

    private final Compression compression;
    private final ThreadPoolExecutor executor;
    private final ThreadLocal<FrameCompressor> compressor = new ThreadLocal<>();

    public FrameCompressionPool(Compression compression, int threads) {
        this.compression = compression;
        this.executor = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), work -> {
            Thread t = new Thread(() -> {
                try (FrameCompressor c = new FrameCompressor(compression)) {
                    compressor.set(c);
                    work.run();
                } finally {
                    compressor.remove();
                }
            }, "cellar-compress");
            t.setDaemon(true);
            return t;
        });
    }

    public Compression compression() {
        return compression;
    }

    /** Compresses {@code raw[0..length)} on a pool thread; the caller must not touch {@code raw} until it is done. */
    public Future<byte[]> submit(byte[] raw, int length) {
        return executor.submit(() -> compressor.get().compress(raw, length));
    }

    /** Stops the threads; frames still queued are dropped, each thread closes its compressor as it ends. */
    @Override
    public void close() {
        executor.shutdownNow();
    }
}
