package dev.cellar.storage;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * The repository's view of a place to keep files: a small interface in the spirit of restic's
 * backend, so that every driver can pass one contract suite. Paths are relative, '/'-separated,
 * with no '..' segments.
 *
 * <p>Durability: when {@link #write} returns, the file is complete under its final name and has
 * reached stable storage (temp name, fsync, rename, fsync of the directory where the driver can).
 * A reader never sees a partial file under a final name.
 */
public interface Storage extends AutoCloseable {

    /** What to do when the target of a write already exists. */
    enum IfExists {
        /** Fail with {@link java.nio.file.FileAlreadyExistsException}: write-once data. */
        FAIL,
        /** Replace it atomically: metadata rewritten in place. */
        REPLACE
    }

    /** One entry of a listing. */
    record Entry(String name, boolean directory, long size) {
    }

    /** A URI naming this storage, without credentials. */
    String uri();

    boolean exists(String path) throws IOException;

    /** Size in bytes; {@link java.nio.file.NoSuchFileException} when absent. */
    long size(String path) throws IOException;

    /** Opens a file for reading; {@link java.nio.file.NoSuchFileException} when absent. */
    InputStream read(String path) throws IOException;

    /** Reads {@code length} bytes from {@code offset}; fails if the file is shorter. */
    byte[] readRange(String path, long offset, int length) throws IOException;

    default byte[] readAll(String path) throws IOException {
        try (InputStream in = read(path)) {
            return in.readAllBytes();
        }
    }

    /** Writes a whole file durably and atomically (see the class comment). Parent directories are created. */
    void write(String path, InputStream data, IfExists ifExists) throws IOException;

    default void write(String path, byte[] data, IfExists ifExists) throws IOException {
        write(path, new java.io.ByteArrayInputStream(data), ifExists);
    }

    /**
     * Writes a write-once file of <em>derived</em> data (a WAL summary: recomputable from files stored durably):
     * complete and atomic under its final name like {@link #write}, but a driver may skip forcing it to stable
     * storage, so after an operating system crash it may be missing or damaged (never partial while the system
     * runs). Readers of such files must treat a damaged one as absent. {@link java.nio.file.FileAlreadyExistsException}
     * when it exists. The default is the durable {@link #write}.
     */
    default void writeDerived(String path, byte[] data) throws IOException {
        write(path, data, IfExists.FAIL);
    }

    /** Entries directly under a directory, sorted by name; empty when the directory does not exist. */
    List<Entry> list(String directory) throws IOException;

    /** Deletes a file; true if it existed. */
    boolean delete(String path) throws IOException;

    @Override
    default void close() throws IOException {
    }

    /** Rejects absolute paths and '..' so that no path escapes the storage root. */
    static String checkPath(String path) {
        if (path == null || path.isEmpty() || path.startsWith("/") || path.contains("\\")) {
            throw new IllegalArgumentException("invalid storage path: '" + path + "'");
        }
        for (String segment : path.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw new IllegalArgumentException("invalid storage path: '" + path + "'");
            }
        }
        return path;
    }
}
