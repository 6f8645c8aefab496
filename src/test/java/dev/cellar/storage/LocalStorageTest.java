package dev.cellar.storage;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class LocalStorageTest extends StorageContract {

    @TempDir
    Path dir;

    @Override
    Storage open() {
        return new LocalStorage(dir.resolve("repo"));
    }
}
