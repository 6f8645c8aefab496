package dev.cellar.storage;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * Limits the bytes per second written through it ({@code bwlimit}, {@code --bwlimit}), so a backup
 * to a shared link or disk leaves room for others. Reads are not limited. One limit is shared by
 * every thread writing through the same instance.
 */
public final class ThrottledStorage implements Storage {

    private final Storage delegate;
    private final long bytesPerSecond;
    private long budgetStart = System.nanoTime();
    private long bytesInBudget;

    public ThrottledStorage(Storage delegate, long bytesPerSecond) {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("bandwidth must be positive");
        }
        this.delegate = delegate;
        this.bytesPerSecond = bytesPerSecond;
    }

    /** Accounts for {@code n} bytes, sleeping as long as the rate is above the limit. */
    private void acquire(int n) throws IOException {
        long sleepNanos;
        synchronized (this) {
            bytesInBudget += n;
            long allowedNanos = bytesInBudget * 1_000_000_000L / bytesPerSecond;
            sleepNanos = allowedNanos - (System.nanoTime() - budgetStart);
            if (sleepNanos < -1_000_000_000L) {
                // idle for a while: do not let unused time become a burst
                budgetStart = System.nanoTime();
                bytesInBudget = n;
                sleepNanos = 0;
            }
        }
        if (sleepNanos > 0) {
            try {
                Thread.sleep(sleepNanos / 1_000_000, (int) (sleepNanos % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while throttled");
            }
        }
    }

    @Override
    public void write(String path, InputStream data, IfExists ifExists) throws IOException {
        delegate.write(path, new FilterInputStream(data) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    acquire(1);
                }
                return b;
            }

            @Override
            public int read(byte[] buf, int off, int len) throws IOException {
                int n = super.read(buf, off, Math.min(len, 64 * 1024));
                if (n > 0) {
                    acquire(n);
                }
                return n;
            }
        }, ifExists);
    }

    @Override
    public String uri() {
        return delegate.uri();
    }

    @Override
    public boolean exists(String path) throws IOException {
        return delegate.exists(path);
    }

    @Override
    public long size(String path) throws IOException {
        return delegate.size(path);
    }

    @Override
    public InputStream read(String path) throws IOException {
        return delegate.read(path);
    }

    @Override
    public byte[] readRange(String path, long offset, int length) throws IOException {
        return delegate.readRange(path, offset, length);
    }

    @Override
    public List<Entry> list(String directory) throws IOException {
        return delegate.list(directory);
    }

    @Override
    public boolean delete(String path) throws IOException {
        return delegate.delete(path);
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }
}
