package dev.cellar.schedule;

import dev.cellar.api.CellarException;
import dev.cellar.api.ExitCode;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * With an embedded (H2) catalog, Quartz is not clustered, and two {@code serve} processes on one
 * catalog would both fire every schedule. This OS file lock on {@code <cellar.home>/serve.lock}
 * lets one run; the lock goes with the process, also when it is killed.
 */
final class SingleServeLock implements AutoCloseable {

    private final FileChannel channel;
    private final FileLock lock;

    private SingleServeLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static SingleServeLock acquire(Path home) {
        Path file = home.resolve("serve.lock");
        try {
            Files.createDirectories(home);
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException sameProcess) {
                lock = null;
            }
            if (lock == null) {
                String holder = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).strip();
                channel.close();
                throw new CellarException(ExitCode.BUSY, "another cellar serve (" + (holder.isEmpty() ? "unknown pid" : holder)
                        + ") uses this embedded catalog; with an H2 catalog one serve runs at a time (put the catalog on PostgreSQL to run several nodes)");
            }
            channel.truncate(0);
            channel.write(java.nio.ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + " on " + dev.cellar.repository.ProcessOwner.localHost())
                    .getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(true);
            return new SingleServeLock(channel, lock);
        } catch (IOException e) {
            throw new CellarException(ExitCode.FAILED, "cannot lock " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException ignored) {
            // the lock goes with the process anyway
        }
    }
}
