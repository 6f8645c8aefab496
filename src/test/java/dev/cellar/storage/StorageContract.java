package dev.cellar.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The storage contract (restic's backend test suite in spirit): every {@link Storage} driver
 * passes exactly these tests. A driver's test class extends this and opens a fresh, empty store.
 */
abstract class StorageContract {

    Storage storage;

    /** A fresh, empty store for one test. */
    abstract Storage open() throws Exception;

    @BeforeEach
    void openStore() throws Exception {
        storage = open();
    }

    @AfterEach
    void closeStore() throws Exception {
        storage.close();
    }

    private static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void writeThenReadReturnsTheSameBytesAndCreatesParents() throws Exception {
        byte[] data = bytes(300_000, 1);
        storage.write("srv/backups/20260101T000000/bundles/0001", data, Storage.IfExists.FAIL);
        assertThat(storage.exists("srv/backups/20260101T000000/bundles/0001")).isTrue();
        assertThat(storage.size("srv/backups/20260101T000000/bundles/0001")).isEqualTo(data.length);
        assertThat(storage.readAll("srv/backups/20260101T000000/bundles/0001")).isEqualTo(data);
        try (InputStream in = storage.read("srv/backups/20260101T000000/bundles/0001")) {
            assertThat(in.readAllBytes()).isEqualTo(data);
        }
    }

    @Test
    void anEmptyFileIsAFile() throws Exception {
        storage.write("a/empty", new byte[0], Storage.IfExists.FAIL);
        assertThat(storage.exists("a/empty")).isTrue();
        assertThat(storage.size("a/empty")).isZero();
        assertThat(storage.readAll("a/empty")).isEmpty();
    }

    @Test
    void rangedReadsReturnExactlyTheRange() throws Exception {
        byte[] data = bytes(100_000, 2);
        storage.write("f", data, Storage.IfExists.FAIL);
        assertThat(storage.readRange("f", 0, 10)).isEqualTo(java.util.Arrays.copyOfRange(data, 0, 10));
        assertThat(storage.readRange("f", 65_530, 4_000)).isEqualTo(java.util.Arrays.copyOfRange(data, 65_530, 69_530));
        assertThat(storage.readRange("f", 99_990, 10)).isEqualTo(java.util.Arrays.copyOfRange(data, 99_990, 100_000));
        assertThatThrownBy(() -> storage.readRange("f", 99_995, 10)).isInstanceOf(IOException.class);
    }

    @Test
    void writeOnceFilesAreNeverOverwritten() throws Exception {
        storage.write("wal/000000010000000000000001", "first".getBytes(StandardCharsets.UTF_8), Storage.IfExists.FAIL);
        assertThatThrownBy(() -> storage.write("wal/000000010000000000000001", "second".getBytes(StandardCharsets.UTF_8), Storage.IfExists.FAIL))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(new String(storage.readAll("wal/000000010000000000000001"), StandardCharsets.UTF_8)).isEqualTo("first");
        assertThat(storage.list("wal")).extracting(Storage.Entry::name).containsExactly("000000010000000000000001");
    }

    @Test
    void derivedFilesAreWrittenWholeAndOnce() throws Exception {
        byte[] data = bytes(70_000, 9);
        storage.writeDerived("wal/0000000100000000/000000010000000000000001.summary", data);
        assertThat(storage.readAll("wal/0000000100000000/000000010000000000000001.summary")).isEqualTo(data);
        assertThatThrownBy(() -> storage.writeDerived("wal/0000000100000000/000000010000000000000001.summary", new byte[] {1}))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(storage.readAll("wal/0000000100000000/000000010000000000000001.summary")).isEqualTo(data);
        assertThat(storage.list("wal/0000000100000000")).extracting(Storage.Entry::name).containsExactly("000000010000000000000001.summary");
    }

    @Test
    void replaceSwapsTheWholeFile() throws Exception {
        storage.write("meta.json", bytes(50_000, 3), Storage.IfExists.REPLACE);
        byte[] second = "short".getBytes(StandardCharsets.UTF_8);
        storage.write("meta.json", second, Storage.IfExists.REPLACE);
        assertThat(storage.readAll("meta.json")).isEqualTo(second);
    }

    @Test
    void aFailedWriteLeavesNothingVisible() throws Exception {
        InputStream failing = new InputStream() {
            int n;

            @Override
            public int read() throws IOException {
                if (n++ > 70_000) {
                    throw new IOException("source failed");
                }
                return 7;
            }
        };
        assertThatThrownBy(() -> storage.write("dir/partial", failing, Storage.IfExists.FAIL)).isInstanceOf(IOException.class);
        assertThat(storage.exists("dir/partial")).isFalse();
        assertThat(storage.list("dir")).isEmpty();
        storage.write("dir/partial", new ByteArrayInputStream(new byte[] {1}), Storage.IfExists.FAIL);
        assertThat(storage.readAll("dir/partial")).containsExactly(1);
    }

    @Test
    void listingIsSortedAndShowsDirectories() throws Exception {
        storage.write("s/b", new byte[3], Storage.IfExists.FAIL);
        storage.write("s/a", new byte[5], Storage.IfExists.FAIL);
        storage.write("s/sub/c", new byte[1], Storage.IfExists.FAIL);
        assertThat(storage.list("s")).containsExactly(
                new Storage.Entry("a", false, 5), new Storage.Entry("b", false, 3), new Storage.Entry("sub", true, 0));
        assertThat(storage.list("nothing-here")).isEmpty();
        assertThat(storage.list("")).extracting(Storage.Entry::name).contains("s");
    }

    @Test
    void missingFilesSayWhich() throws Exception {
        assertThat(storage.exists("nope")).isFalse();
        assertThatThrownBy(() -> storage.read("nope")).isInstanceOf(java.nio.file.NoSuchFileException.class);
        assertThatThrownBy(() -> storage.size("nope")).isInstanceOf(java.nio.file.NoSuchFileException.class);
        assertThat(storage.delete("nope")).isFalse();
    }

    @Test
    void deleteRemovesTheFile() throws Exception {
        storage.write("d/x", new byte[1], Storage.IfExists.FAIL);
        assertThat(storage.delete("d/x")).isTrue();
        assertThat(storage.exists("d/x")).isFalse();
    }

    @Test
    void pathsCannotEscapeTheRoot() {
        for (String bad : new String[] {"/etc/passwd", "../outside", "a/../../b", "a//b", "", "a/./b"}) {
            assertThatThrownBy(() -> storage.write(bad, new byte[1], Storage.IfExists.FAIL)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
