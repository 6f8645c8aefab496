package dev.cellar.storage;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retries operations on remote stores (SFTP, later object stores) that fail with a transient I/O
 * error, with exponential backoff. Answers that are not transient (a missing file, a taken name, a
 * short file) are never retried. A write-once write that fails after the data reached the store
 * (the acknowledgement was lost) finds the name taken on its next try: it succeeds if the stored
 * bytes are exactly its own, and fails otherwise.
 */
public final class RetryingStorage implements Storage {

    private static final Logger log = LoggerFactory.getLogger(RetryingStorage.class);

    private final Storage delegate;
    private final int attempts;
    private final long firstDelayMillis;

    public RetryingStorage(Storage delegate, int attempts, long firstDelayMillis) {
        this.delegate = delegate;
        this.attempts = attempts;
        this.firstDelayMillis = firstDelayMillis;
    }

    private interface Operation<T> {
        T run() throws IOException;
    }

    private <T> T retry(String what, Operation<T> op) throws IOException {
        long delay = firstDelayMillis;
        for (int attempt = 1; ; attempt++) {
            try {
                return op.run();
            } catch (NoSuchFileException | FileAlreadyExistsException | EOFException | java.io.InterruptedIOException definite) {
                throw definite;
            } catch (IOException e) {
                if (attempt >= attempts) {
                    throw new IOException(what + " failed after " + attempts + " attempts: " + e.getMessage(), e);
                }
                log.warn("{} failed ({}), attempt {} of {}; retrying in {} ms", what, e.getMessage(), attempt, attempts, delay);
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while retrying " + what);
                }
                delay *= 2;
            }
        }
    }

    @Override
    public void write(String path, InputStream data, IfExists ifExists) throws IOException {
        byte[] bytes = data.readAllBytes(); // to send again on a retry; repository writes are bounded (bundles ~32 MiB)
        boolean[] tried = {false};
        retry("write " + path, () -> {
            try {
                delegate.write(path, bytes, ifExists);
            } catch (FileAlreadyExistsException taken) {
                if (tried[0] && Arrays.equals(delegate.readAll(path), bytes)) {
                    return null; // an earlier try got through; only its acknowledgement was lost
                }
                throw taken;
            } finally {
                tried[0] = true;
            }
            return null;
        });
    }

    @Override
    public String uri() {
        return delegate.uri();
    }

    @Override
    public boolean exists(String path) throws IOException {
        return retry("exists " + path, () -> delegate.exists(path));
    }

    @Override
    public long size(String path) throws IOException {
        return retry("size " + path, () -> delegate.size(path));
    }

    @Override
    public InputStream read(String path) throws IOException {
        return retry("read " + path, () -> delegate.read(path));
    }

    @Override
    public byte[] readRange(String path, long offset, int length) throws IOException {
        return retry("read " + path, () -> delegate.readRange(path, offset, length));
    }

    @Override
    public List<Entry> list(String directory) throws IOException {
        return retry("list " + directory, () -> delegate.list(directory));
    }

    @Override
    public boolean delete(String path) throws IOException {
        return retry("delete " + path, () -> delegate.delete(path));
    }

    @Override
    public void close() throws IOException {
        delegate.close();
    }
}
