package dev.cellar.storage;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;

/** Opens the storage a repository URI names: {@code file://} on the local fast path, anything else through VFS. */
public final class StorageOpener {

    private StorageOpener() {
    }

    public static Storage open(String uri) throws IOException {
        if (uri.startsWith("file:")) {
            return new LocalStorage(Path.of(URI.create(uri)));
        }
        return new VfsStorage(uri);
    }
}
