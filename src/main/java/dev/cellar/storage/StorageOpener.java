package dev.cellar.storage;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;

/**
 * Opens the storage a repository URI names: {@code file://} on the local fast path, anything else
 * through VFS, retried on transient errors (3 attempts, 0.5 s then 1 s apart); with a bandwidth
 * limit when one is given.
 */
public final class StorageOpener {

    private StorageOpener() {
    }

    public static Storage open(String uri) throws IOException {
        return open(uri, 0);
    }

    /** @param bytesPerSecond a write bandwidth limit; 0 for none */
    public static Storage open(String uri, long bytesPerSecond) throws IOException {
        return open(uri, bytesPerSecond, ThrottledStorage.Direction.WRITES);
    }

    /** @param bytesPerSecond a bandwidth limit on {@code direction}; 0 for none */
    public static Storage open(String uri, long bytesPerSecond, ThrottledStorage.Direction direction) throws IOException {
        Storage s = uri.startsWith("file:") ? new LocalStorage(Path.of(URI.create(uri))) : new RetryingStorage(new VfsStorage(uri), 3, 500);
        return bytesPerSecond > 0 ? new ThrottledStorage(s, bytesPerSecond, direction) : s;
    }
}
