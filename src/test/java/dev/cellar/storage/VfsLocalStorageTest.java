package dev.cellar.storage;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The VFS driver on VFS's own file provider: the contract independent of any network. */
class VfsLocalStorageTest extends StorageContract {

    @TempDir
    Path dir;

    @Override
    Storage open() throws Exception {
        return new VfsStorage(dir.resolve("repo").toUri().toString());
    }
}
