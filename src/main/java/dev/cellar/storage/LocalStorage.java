package dev.cellar.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The fast path for {@code file://} repositories: plain NIO with fsync of the file and its
 * directory on every commit (not for derived files, {@link #writeDerived}). Write-once files are published with a hard link, which fails
 * atomically when the name is taken, so two writers can never overwrite each other.
 */
public final class LocalStorage implements Storage {

    private final Path root;

    public LocalStorage(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    public Path root() {
        return root;
    }

    @Override
    public String uri() {
        return root.toUri().toString();
    }

    private Path resolve(String path) {
        return root.resolve(Storage.checkPath(path));
    }

    @Override
    public boolean exists(String path) {
        return Files.exists(resolve(path));
    }

    @Override
    public long size(String path) throws IOException {
        return Files.size(resolve(path));
    }

    @Override
    public InputStream read(String path) throws IOException {
        return Files.newInputStream(resolve(path));
    }

    @Override
    public byte[] readRange(String path, long offset, int length) throws IOException {
        try (FileChannel ch = FileChannel.open(resolve(path), StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(length);
            long pos = offset;
            while (buf.hasRemaining()) {
                int n = ch.read(buf, pos);
                if (n < 0) {
                    throw new java.io.EOFException(path + ": wanted " + length + " bytes at offset " + offset
                            + ", file ends at " + ch.size());
                }
                pos += n;
            }
            return buf.array();
        }
    }

    @Override
    public void write(String path, InputStream data, IfExists ifExists) throws IOException {
        write(path, data, ifExists, true);
    }

    /** As {@link #write} with {@code FAIL}, without the two fsyncs (derived data; see {@link Storage#writeDerived}). */
    @Override
    public void writeDerived(String path, byte[] data) throws IOException {
        write(path, new java.io.ByteArrayInputStream(data), IfExists.FAIL, false);
    }

    /** Temp name, then a link ({@code FAIL}) or an atomic rename ({@code REPLACE}); {@code durable}: the file and the directory fsynced. */
    private void write(String path, InputStream data, IfExists ifExists, boolean durable) throws IOException {
        Path target = resolve(path);
        Path dir = target.getParent();
        Files.createDirectories(dir);
        if (ifExists == IfExists.FAIL && Files.exists(target)) {
            throw new FileAlreadyExistsException(path);
        }
        Path temp = dir.resolve("." + target.getFileName() + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                 OutputStream out = Channels.newOutputStream(ch)) {
                data.transferTo(out);
                out.flush();
                if (durable) {
                    ch.force(true);
                }
            }
            if (ifExists == IfExists.FAIL) {
                try {
                    Files.createLink(target, temp);
                } catch (FileAlreadyExistsException e) {
                    throw new FileAlreadyExistsException(path);
                }
            } else {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
            if (durable) {
                syncDirectory(dir);
            }
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    @Override
    public List<Entry> list(String directory) throws IOException {
        Path dir = directory.isEmpty() ? root : resolve(directory);
        List<Entry> entries = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return entries;
        }
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            for (Path p : stream) {
                String name = p.getFileName().toString();
                if (name.startsWith(".") && name.contains(".tmp-")) {
                    continue; // an unfinished write, never part of the repository
                }
                boolean isDir = Files.isDirectory(p);
                entries.add(new Entry(name, isDir, isDir ? 0 : Files.size(p)));
            }
        } catch (NoSuchFileException e) {
            return entries;
        }
        entries.sort(Comparator.comparing(Entry::name));
        return entries;
    }

    @Override
    public boolean delete(String path) throws IOException {
        Path p = resolve(path);
        boolean existed = Files.deleteIfExists(p);
        if (existed) {
            syncDirectory(p.getParent());
        }
        return existed;
    }

    static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
