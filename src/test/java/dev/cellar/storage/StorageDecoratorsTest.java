package dev.cellar.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StorageDecoratorsTest {

    @TempDir
    Path dir;

    /** A local store whose writes fail, or lose their acknowledgement, a given number of times. */
    static final class FlakyStorage implements Storage {
        final LocalStorage real;
        final AtomicInteger failuresLeft;
        final boolean loseAck;
        final AtomicInteger writes = new AtomicInteger();

        FlakyStorage(Path root, int failures, boolean loseAck) {
            this.real = new LocalStorage(root);
            this.failuresLeft = new AtomicInteger(failures);
            this.loseAck = loseAck;
        }

        @Override
        public void write(String path, InputStream data, IfExists ifExists) throws IOException {
            writes.incrementAndGet();
            if (failuresLeft.getAndDecrement() > 0) {
                if (loseAck) {
                    real.write(path, data, ifExists);
                }
                throw new IOException("connection reset");
            }
            real.write(path, data, ifExists);
        }

        @Override
        public String uri() {
            return real.uri();
        }

        @Override
        public boolean exists(String path) {
            return real.exists(path);
        }

        @Override
        public long size(String path) throws IOException {
            return real.size(path);
        }

        @Override
        public InputStream read(String path) throws IOException {
            return real.read(path);
        }

        @Override
        public byte[] readRange(String path, long offset, int length) throws IOException {
            return real.readRange(path, offset, length);
        }

        @Override
        public List<Entry> list(String directory) throws IOException {
            return real.list(directory);
        }

        @Override
        public boolean delete(String path) throws IOException {
            return real.delete(path);
        }
    }

    @Test
    void transientWriteFailuresAreRetried() throws Exception {
        FlakyStorage flaky = new FlakyStorage(dir, 2, false);
        new RetryingStorage(flaky, 3, 1).write("a/b", new byte[] {1, 2, 3}, Storage.IfExists.FAIL);
        assertThat(flaky.writes.get()).isEqualTo(3);
        assertThat(flaky.real.readAll("a/b")).containsExactly(1, 2, 3);
    }

    @Test
    void aWriteWhoseAcknowledgementWasLostSucceedsWhenTheStoredBytesAreItsOwn() throws Exception {
        FlakyStorage flaky = new FlakyStorage(dir, 1, true);
        new RetryingStorage(flaky, 3, 1).write("bundle", new byte[] {9, 9}, Storage.IfExists.FAIL);
        assertThat(flaky.real.readAll("bundle")).containsExactly(9, 9);
    }

    @Test
    void aNameTakenByOtherBytesIsNeverOverwrittenOrRetried() throws Exception {
        FlakyStorage flaky = new FlakyStorage(dir, 0, false);
        flaky.real.write("bundle", new byte[] {7}, Storage.IfExists.FAIL);
        assertThatThrownBy(() -> new RetryingStorage(flaky, 3, 1).write("bundle", new byte[] {8}, Storage.IfExists.FAIL))
                .isInstanceOf(FileAlreadyExistsException.class);
        assertThat(flaky.writes.get()).isEqualTo(1);
        assertThat(flaky.real.readAll("bundle")).containsExactly(7);
    }

    @Test
    void persistentFailuresGiveUpNamingTheOperation() {
        FlakyStorage flaky = new FlakyStorage(dir, 10, false);
        assertThatThrownBy(() -> new RetryingStorage(flaky, 3, 1).write("x", new byte[] {1}, Storage.IfExists.FAIL))
                .isInstanceOf(IOException.class).hasMessage("write x failed after 3 attempts: connection reset");
    }

    @Test
    void aMissingFileIsNotRetried() {
        assertThatThrownBy(() -> new RetryingStorage(new LocalStorage(dir), 3, 10_000).read("absent"))
                .isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void writesAreHeldToTheBandwidthLimit() throws Exception {
        ThrottledStorage slow = new ThrottledStorage(new LocalStorage(dir), 2 << 20);
        long start = System.nanoTime();
        slow.write("one", new byte[1 << 20], Storage.IfExists.FAIL);
        slow.write("two", new byte[1 << 20], Storage.IfExists.FAIL);
        // 2 MiB at 2 MiB/s: at least about a second (only a lower bound: sleeping guarantees it)
        assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(900);
        assertThat(slow.readAll("two")).hasSize(1 << 20);
    }

    @Test
    void aReadLimitPacesReadsAndRangesButNotWrites() throws Exception {
        ThrottledStorage readsLimited = new ThrottledStorage(new LocalStorage(dir), 2 << 20, ThrottledStorage.Direction.READS);
        long start = System.nanoTime();
        for (int i = 0; i < 8; i++) {
            readsLimited.write("f" + i, new byte[1 << 20], Storage.IfExists.FAIL);
        }
        // 8 MiB written at no limit: well under the 4 s the limit would take
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(3000);
        // A fresh limit for the reads (time spent writing above would count as unused budget).
        ThrottledStorage slow = new ThrottledStorage(new LocalStorage(dir), 2 << 20, ThrottledStorage.Direction.READS);
        start = System.nanoTime();
        assertThat(slow.readAll("f0")).hasSize(1 << 20);
        assertThat(slow.readRange("f1", 4096, (1 << 20) - 4096)).hasSize((1 << 20) - 4096);
        try (var in = slow.read("f2")) {
            assertThat(in.readAllBytes()).hasSize(1 << 20);
        }
        // about 3 MiB at 2 MiB/s: at least about 1.5 s (a lower bound only)
        assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(1200);
    }

    @Nested
    class RetryingPassesTheContract extends StorageContract {
        @TempDir
        Path root;

        @Override
        Storage open() {
            return new RetryingStorage(new LocalStorage(root), 3, 1);
        }
    }

    @Nested
    class ThrottledPassesTheContract extends StorageContract {
        @TempDir
        Path root;

        @Override
        Storage open() {
            return new ThrottledStorage(new LocalStorage(root), 1L << 30);
        }
    }
}
