package dev.cellar.restore;

import dev.cellar.repository.BackupInfo;
import dev.cellar.repository.Manifest;
import dev.cellar.repository.ManifestEntry;
import dev.cellar.repository.StoredFileReader;
import dev.cellar.storage.Storage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Restores a backup's files into a directory: directories and tablespace links first (in path
 * order, with their modes; {@code --tablespace OID=PATH} moves a tablespace), then the files in
 * parallel, largest first, each read through its resolved block map with every frame's, block's
 * and the whole file's checksum verified, then its mode and modification time set.
 *
 * <p>A file is written under a temporary name beside its final one and renamed only once
 * verified and synced, so a file under its final name with the manifest's size and modification
 * time is complete: that is the per-file checkpoint a restarted restore continues from
 * ({@code resume}). A delta restore ({@code delta}) reads what DEST already holds, writes only
 * the blocks whose checksum differs, and removes what the backup does not contain.
 */
public final class DataDirectoryRestore {

    /** Temporary files of this class end so (and are removed by a resumed or delta restore). */
    static final String TEMP_SUFFIX = ".cellar-tmp";
    /** Files larger than this are restored by all workers at once, in ranges of about this size. */
    static final long CHUNK_BYTES = 16L << 20;

    /** Progress of the file copy, reported about once a second (and may end it by throwing: a stop request). */
    public interface Progress {
        void update(long filesDone, long filesTotal, long bytesDone, long bytesTotal);

        /** The last report, once every file is restored: the copy is done and must not be given up. */
        default void finished(long filesDone, long filesTotal, long bytesDone, long bytesTotal) {
            update(filesDone, filesTotal, bytesDone, bytesTotal);
        }
    }

    /**
     * @param filesAlreadyDone  files a resumed restore found complete from an earlier attempt
     * @param filesUnchanged    files a delta restore found identical (nothing written)
     * @param bytesWritten      bytes written into DEST
     * @param bytesFetched      stored bytes read from the repository
     * @param pathsRemoved      paths a delta or resumed restore removed because the backup has no such path
     */
    public record Result(long files, long bytes, long filesAlreadyDone, long filesUnchanged, long bytesWritten, long bytesFetched,
                         long pathsRemoved) {
    }

    private final Storage storage;
    private final String server;
    private final int parallel;

    public DataDirectoryRestore(Storage storage, String server, int parallel) {
        this.storage = storage;
        this.server = server;
        this.parallel = Math.max(1, parallel);
    }

    /** Where each tablespace of the backup goes: its original location unless remapped. */
    public static Map<String, Path> tablespaceTargets(Manifest manifest, Map<String, Path> remap) {
        Map<String, Path> out = new HashMap<>();
        for (ManifestEntry e : manifest.entries()) {
            if (e.type() == ManifestEntry.Type.LINK && e.path().startsWith("pg_tblspc/")) {
                String oid = e.path().substring("pg_tblspc/".length());
                out.put(oid, remap.getOrDefault(oid, Path.of(e.linkTarget())));
            }
        }
        for (String oid : remap.keySet()) {
            if (!out.containsKey(oid)) {
                throw new RestoreRefusedException("--tablespace " + oid + "=...: the backup has no tablespace " + oid
                        + (out.isEmpty() ? " (it has none)" : " (it has " + new java.util.TreeSet<>(out.keySet()) + ")"));
            }
        }
        return out;
    }

    /**
     * Refuses a destination a restore must not write into: inside (or containing) the live
     * cluster's data directory, a directory in use by a running postmaster, a non-empty directory
     * without {@code delta}, a tablespace location that is the live cluster's or not empty.
     */
    public static void checkDestination(Path dest, Path livePgdata, Map<String, Path> tablespaces, boolean delta) throws IOException {
        Path d = real(dest);
        if (livePgdata != null) {
            Path live = real(livePgdata);
            if (d.startsWith(live) || live.startsWith(d)) {
                throw new RestoreRefusedException("destination " + dest + (d.startsWith(live) ? " is inside" : " contains")
                        + " the data directory of the server (" + livePgdata + "); restore somewhere else");
            }
        }
        if (Files.exists(dest.resolve("postmaster.pid"))) {
            throw new RestoreRefusedException("destination " + dest + " holds postmaster.pid: a PostgreSQL server may be running there; stop it "
                    + "(and remove the file if it is stale) first");
        }
        if (Files.exists(dest) && !Files.isDirectory(dest)) {
            throw new RestoreRefusedException("destination " + dest + " exists and is not a directory");
        }
        if (!delta && !isEmpty(dest)) {
            throw new RestoreRefusedException("destination " + dest + " is not empty; restore into an empty or new directory, "
                    + "or give --delta to reuse what it holds (files not in the backup are removed)");
        }
        Set<Path> liveTablespaces = new HashSet<>();
        if (livePgdata != null && Files.isDirectory(livePgdata.resolve("pg_tblspc"))) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(livePgdata.resolve("pg_tblspc"))) {
                for (Path link : s) {
                    liveTablespaces.add(real(link));
                }
            }
        }
        for (Map.Entry<String, Path> t : tablespaces.entrySet()) {
            Path target = real(t.getValue());
            if (liveTablespaces.contains(target)) {
                throw new RestoreRefusedException("tablespace " + t.getKey() + " would be restored into " + t.getValue()
                        + ", the live cluster's tablespace; move it with --tablespace " + t.getKey() + "=PATH");
            }
            if (target.startsWith(d)) {
                throw new RestoreRefusedException("tablespace " + t.getKey() + " location " + t.getValue() + " is inside the destination");
            }
            if (!delta && !isEmpty(t.getValue())) {
                throw new RestoreRefusedException("tablespace " + t.getKey() + " location " + t.getValue()
                        + " is not empty; move it with --tablespace " + t.getKey() + "=PATH, or give --delta");
            }
        }
    }

    private static Path real(Path p) throws IOException {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        return existing == null ? abs : existing.toRealPath().resolve(existing.relativize(abs));
    }

    private static boolean isEmpty(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return true;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            return !s.iterator().hasNext();
        }
    }

    /**
     * Restores every path of the manifest into {@code dest}.
     *
     * @param resume a restart of an interrupted restore into the same DEST: complete files are kept
     */
    public Result restore(BackupInfo backup, Manifest manifest, Path dest, Map<String, Path> tablespaces, boolean delta, boolean resume,
                          Progress progress) throws IOException {
        Files.createDirectories(dest);
        Files.setPosixFilePermissions(dest, permissions(0700));
        long removed = 0;
        if (delta || resume) {
            removed = removeExtraneous(manifest, dest, tablespaces);
        }
        // Directories and links, in path order (a tablespace link before what lies under it).
        for (ManifestEntry e : manifest.entries()) {
            Path p = dest.resolve(e.path());
            if (e.type() == ManifestEntry.Type.DIRECTORY) {
                if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    Files.deleteIfExists(p);
                    Files.createDirectory(p);
                }
                Files.setPosixFilePermissions(p, permissions(e.mode()));
            } else if (e.type() == ManifestEntry.Type.LINK && !isTablespaceLink(e.path())) {
                // Only tablespace links are followed and made again. Any other link (pg_wal moved with
                // initdb -X, above all) points into the live server's files: the restore gets a real
                // directory of its own instead (the backup holds no content under such a link).
                if (Files.isSymbolicLink(p)) {
                    Files.delete(p);
                }
                Files.createDirectories(p);
                Files.setPosixFilePermissions(p, permissions(0700));
                if (e.path().equals("pg_wal")) {
                    Files.createDirectories(p.resolve("archive_status"));
                    Files.setPosixFilePermissions(p.resolve("archive_status"), permissions(0700));
                }
            } else if (e.type() == ManifestEntry.Type.LINK) {
                Path target = tablespaces.get(e.path().substring("pg_tblspc/".length()));
                Files.createDirectories(target);
                Files.setPosixFilePermissions(target, permissions(0700));
                if (Files.isSymbolicLink(p) && Files.readSymbolicLink(p).equals(target)) {
                    continue;
                }
                if (Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                    deleteTree(p);
                }
                Files.createSymbolicLink(p, target);
            }
        }
        List<ManifestEntry> files = manifest.entries().stream().filter(e -> e.type() == ManifestEntry.Type.FILE)
                .sorted(Comparator.comparingLong(ManifestEntry::size).reversed().thenComparing(ManifestEntry::path)).toList();
        long bytesTotal = files.stream().mapToLong(ManifestEntry::size).sum();
        AtomicLong filesDone = new AtomicLong();
        AtomicLong bytesDone = new AtomicLong();
        AtomicLong alreadyDone = new AtomicLong();
        AtomicLong unchanged = new AtomicLong();
        AtomicLong written = new AtomicLong();
        AtomicLong fetched = new AtomicLong();
        ExecutorService pool = Executors.newFixedThreadPool(parallel, r -> {
            Thread t = new Thread(r, "cellar-restore");
            t.setDaemon(true);
            return t;
        });
        ThreadLocal<StoredFileReader> readers = ThreadLocal.withInitial(() -> new StoredFileReader(storage, server));
        List<ChunkedFile> chunked = new ArrayList<>();
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (ManifestEntry e : files) {
                Path target = dest.resolve(e.path());
                if (resume && !delta && isComplete(target, e)) {
                    alreadyDone.incrementAndGet();
                    filesDone.incrementAndGet();
                    bytesDone.addAndGet(e.size());
                    continue;
                }
                if (e.size() > CHUNK_BYTES && e.blockCount() > 1) {
                    // A large file is restored by all workers at once, in block ranges, its SHA-256 taken in order.
                    int blocksPerChunk = (int) Math.max(1, CHUNK_BYTES / e.blockSize());
                    ChunkedFile file = new ChunkedFile(e, target, delta, (e.blockCount() + blocksPerChunk - 1) / blocksPerChunk);
                    chunked.add(file);
                    for (int from = 0, k = 0; from < e.blockCount(); from += blocksPerChunk, k++) {
                        int chunk = k;
                        int first = from;
                        int last = Math.min(e.blockCount(), from + blocksPerChunk);
                        futures.add(pool.submit(() -> {
                            StoredFileReader reader = readers.get();
                            long before = reader.bytesFetched();
                            long n;
                            try {
                                n = file.restoreChunk(reader, chunk, first, last);
                            } catch (IOException | RuntimeException ex) {
                                file.chunkFailed();
                                throw ex;
                            }
                            written.addAndGet(n);
                            fetched.addAndGet(reader.bytesFetched() - before);
                            bytesDone.addAndGet(Math.min(e.size(), (long) last * e.blockSize()) - (long) first * e.blockSize());
                            if (file.chunkDone()) {
                                if (file.bytesWritten.get() == 0 && delta) {
                                    unchanged.incrementAndGet();
                                }
                                filesDone.incrementAndGet();
                            }
                            return null;
                        }));
                    }
                    continue;
                }
                futures.add(pool.submit(() -> {
                    StoredFileReader reader = readers.get();
                    long before = reader.bytesFetched();
                    long n = restoreFile(reader, e, target, delta);
                    if (n == 0 && delta) {
                        unchanged.incrementAndGet();
                    }
                    written.addAndGet(n);
                    fetched.addAndGet(reader.bytesFetched() - before);
                    filesDone.incrementAndGet();
                    bytesDone.addAndGet(e.size());
                    return null;
                }));
            }
            // The report is also where a stop request ends the restore (one task per file or 16 MiB range).
            dev.cellar.repository.ParallelWork.awaitAll(futures, () -> progress.update(filesDone.get(), files.size(), bytesDone.get(), bytesTotal));
        } finally {
            dev.cellar.repository.ParallelWork.stop(pool, 60); // no worker writes into DEST once this returns
            for (ChunkedFile f : chunked) {
                f.abandonIfUnfinished();
            }
        }
        progress.finished(filesDone.get(), files.size(), bytesDone.get(), bytesTotal);
        // Directory modification times last: writing into a directory changes its own.
        for (ManifestEntry e : manifest.entries()) {
            if (e.type() == ManifestEntry.Type.DIRECTORY) {
                Files.setLastModifiedTime(dest.resolve(e.path()), FileTime.fromMillis(e.mtime()));
            }
        }
        writeBackupLabel(backup, dest);
        return new Result(files.size(), bytesTotal, alreadyDone.get(), unchanged.get(), written.get(), fetched.get(), removed);
    }

    /** Writes {@code backup_label} as pg_backup_stop returned it: recovery starts from its checkpoint. */
    static void writeBackupLabel(BackupInfo backup, Path dest) throws IOException {
        Path label = dest.resolve("backup_label");
        Path tmp = dest.resolve("backup_label" + TEMP_SUFFIX);
        Files.writeString(tmp, backup.backupLabel(), StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(tmp, permissions(0600));
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Files.move(tmp, label, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static boolean isComplete(Path target, ManifestEntry e) throws IOException {
        return Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS) && Files.size(target) == e.size()
                && Files.getLastModifiedTime(target, LinkOption.NOFOLLOW_LINKS).toMillis() == e.mtime();
    }

    /** A file a delta restore may change in place: a regular file with no other hard link (which may belong to another cluster). */
    static boolean changeableInPlace(Path target) throws IOException {
        return Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)
                && ((Number) Files.getAttribute(target, "unix:nlink", LinkOption.NOFOLLOW_LINKS)).intValue() == 1;
    }

    private static long restoreFile(StoredFileReader reader, ManifestEntry e, Path target, boolean delta) throws IOException {
        boolean exists = changeableInPlace(target);
        long n;
        if (exists && delta) {
            try (FileChannel ch = FileChannel.open(target, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                n = reader.restore(e, ch, true);
                if (n > 0) {
                    ch.force(false);
                }
            }
            setAttributes(target, e);
            return n;
        }
        Path tmp = temporary(target);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            n = reader.restore(e, ch, false);
            ch.force(false);
        } catch (IOException | RuntimeException ex) {
            Files.deleteIfExists(tmp);
            throw ex;
        }
        publish(tmp, target, e);
        return n;
    }

    private static Path temporary(Path target) {
        return target.resolveSibling(target.getFileName() + TEMP_SUFFIX);
    }

    private static void setAttributes(Path p, ManifestEntry e) throws IOException {
        Files.setPosixFilePermissions(p, permissions(e.mode()));
        Files.setLastModifiedTime(p, FileTime.fromMillis(e.mtime()));
    }

    /** Gives a verified, synced temporary file its mode and time, then its final name. */
    private static void publish(Path tmp, Path target, ManifestEntry e) throws IOException {
        setAttributes(tmp, e);
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * A large file restored in block ranges by several workers into one channel, each block verified
     * against its XXH64 as it is written; the worker finishing the last range reads the file back for
     * its SHA-256, syncs and publishes it. {@link #abandonIfUnfinished} closes and removes what a failed
     * restore left.
     */
    private static final class ChunkedFile {
        private final ManifestEntry entry;
        private final Path target;
        private final Path written;
        private final boolean inPlace;
        private final FileChannel channel;
        private final long existingSize;
        private final AtomicLong bytesWritten = new AtomicLong();
        private final java.util.concurrent.atomic.AtomicInteger finished = new java.util.concurrent.atomic.AtomicInteger();
        private volatile boolean failed;
        private final int chunks;

        ChunkedFile(ManifestEntry entry, Path target, boolean delta, int chunks) throws IOException {
            this.entry = entry;
            this.chunks = chunks;
            this.target = target;
            this.inPlace = delta && changeableInPlace(target);
            this.written = inPlace ? target : temporary(target);
            this.channel = inPlace ? FileChannel.open(target, StandardOpenOption.READ, StandardOpenOption.WRITE)
                    : FileChannel.open(written, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                            StandardOpenOption.READ, StandardOpenOption.WRITE);
            this.existingSize = inPlace ? channel.size() : 0;
        }

        long restoreChunk(StoredFileReader reader, int chunk, int from, int to) throws IOException {
            if (failed) {
                return 0; // another range of this file failed: the step fails with that range's error
            }
            long n = reader.restoreBlocks(entry, channel, existingSize, from, to, (data, offset, length) -> { });
            bytesWritten.addAndGet(n);
            return n;
        }

        /** A range failed: the file is abandoned (its temporary file removed once no range still writes to it). */
        void chunkFailed() throws IOException {
            failed = true;
            if (finished.incrementAndGet() == chunks) {
                abandon();
            }
        }

        /** After the pool stopped: a file some of whose ranges never ran is closed and its temporary file removed. */
        void abandonIfUnfinished() {
            if (finished.get() < chunks && channel.isOpen()) {
                try {
                    abandon();
                } catch (IOException e) {
                    org.slf4j.LoggerFactory.getLogger(DataDirectoryRestore.class).warn("cannot remove {}: {}", written, e.toString());
                }
            }
        }

        private void abandon() throws IOException {
            channel.close();
            if (!inPlace) {
                Files.deleteIfExists(written);
            }
        }

        /** Called after each range; the last one finishes the file. Returns whether the file is done. */
        boolean chunkDone() throws IOException {
            if (finished.incrementAndGet() < chunks) {
                return false;
            }
            if (failed) {
                abandon();
                return false;
            }
            try (FileChannel ch = channel) {
                // The whole file's SHA-256, over what is on disk now, read back in order.
                if (ch.size() != entry.size()) {
                    ch.truncate(entry.size());
                }
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(1 << 20);
                java.security.MessageDigest sha = StoredFileReader.newSha256();
                for (long pos = 0; pos < entry.size(); ) {
                    buf.clear();
                    int n = ch.read(buf, pos);
                    if (n < 0) {
                        throw new java.io.EOFException(entry.path());
                    }
                    sha.update(buf.array(), 0, n);
                    pos += n;
                }
                StoredFileReader.finish(entry, ch, sha);
                if (!inPlace || bytesWritten.get() > 0) {
                    ch.force(false);
                }
            } catch (IOException | RuntimeException e) {
                if (!inPlace) {
                    Files.deleteIfExists(written);
                }
                throw e;
            }
            if (inPlace) {
                setAttributes(target, entry);
            } else {
                publish(written, target, entry);
            }
            return true;
        }
    }

    /** Removes what DEST holds that the backup does not (temporary files of an earlier attempt included); returns how many paths. */
    private static long removeExtraneous(Manifest manifest, Path dest, Map<String, Path> tablespaces) throws IOException {
        Map<String, ManifestEntry> byPath = manifest.byPath();
        long[] removed = {0};
        walk(dest, "", byPath, removed);
        return removed[0];
    }

    private static void walk(Path dir, String rel, Map<String, ManifestEntry> byPath, long[] removed) throws IOException {
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            s.forEach(children::add);
        }
        for (Path child : children) {
            String path = rel.isEmpty() ? child.getFileName().toString() : rel + "/" + child.getFileName();
            ManifestEntry e = byPath.get(path);
            boolean isLink = Files.isSymbolicLink(child);
            boolean isDir = !isLink && Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS);
            if (e == null || (e.type() == ManifestEntry.Type.FILE && (isDir || isLink))
                    || (e.type() == ManifestEntry.Type.DIRECTORY && !isDir)) {
                deleteTree(child);
                removed[0]++;
            } else if (e.type() == ManifestEntry.Type.DIRECTORY) {
                walk(child, path, byPath, removed);
            } else if (e.type() == ManifestEntry.Type.LINK && isLink && isTablespaceLink(path) && Files.isDirectory(child)) {
                walk(child, path, byPath, removed); // a tablespace: its content is in the manifest under the link
            } else if (e.type() == ManifestEntry.Type.LINK && isLink) {
                Files.delete(child); // any other link is replaced by a directory of DEST's own; never followed
                removed[0]++;
            } else if (e.type() == ManifestEntry.Type.LINK && isDir && !isTablespaceLink(path)) {
                walk(child, path, byPath, removed); // pg_wal made a directory by an earlier restore: clean it
            }
        }
    }

    static boolean isTablespaceLink(String path) {
        return path.matches("pg_tblspc/[0-9]+");
    }

    static void deleteTree(Path p) throws IOException {
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            try (var s = Files.walk(p)) {
                for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(q);
                }
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        } else {
            Files.deleteIfExists(p);
        }
    }

    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = {
                PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
                PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
                PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << i)) != 0) {
                s.add(bits[i]);
            }
        }
        return s;
    }
}
