package dev.cellar.storage;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * Limits the bytes per second written through it (a backup's {@code bwlimit}, {@code --bwlimit}) or
 * read through it (a restore's {@code --bwlimit}), so a backup or a restore over a shared link or disk
 * leaves room for others. One limit is shared by every thread going through the same instance; the
 * other direction is not limited.
 */
public final class ThrottledStorage implements Storage {

    /** What the limit applies to. */
    public enum Direction { WRITES, READS }

    private final Storage delegate;
    private final long bytesPerSecond;
    private final Direction direction;
    private long budgetStart = System.nanoTime();
    private long bytesInBudget;

    /** Limits writes. */
    public ThrottledStorage(Storage delegate, long bytesPerSecond) {
        this(delegate, bytesPerSecond, Direction.WRITES);
    }

    public ThrottledStorage(Storage delegate, long bytesPerSecond, Direction direction) {
        if (bytesPerSecond <= 0) {
            throw new IllegalArgumentException("bandwidth must be positive");
        }
        this.delegate = delegate;
        this.bytesPerSecond = bytesPerSecond;
        this.direction = direction;
    }

    /** {@code in}, each byte read from it accounted for; at most 64 KiB per read so the pace stays even. */
    private InputStream limited(InputStream in) {
        return new FilterInputStream(in) {
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
        };
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
        delegate.write(path, direction == Direction.WRITES ? limited(data) : data, ifExists);
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
        InputStream in = delegate.read(path);
        return direction == Direction.READS ? limited(in) : in;
    }

    @Override
    public byte[] readRange(String path, long offset, int length) throws IOException {
        byte[] bytes = delegate.readRange(path, offset, length);
        if (direction == Direction.READS) {
            for (int done = 0; done < bytes.length; done += 64 * 1024) {
                acquire(Math.min(64 * 1024, bytes.length - done));
            }
        }
        return bytes;
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
