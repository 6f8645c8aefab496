package dev.cellar.backup;

import dev.cellar.config.Compression;
import dev.cellar.repository.BlockRun;
import dev.cellar.repository.BundleWriter;
import dev.cellar.repository.FrameCodec;
import dev.cellar.repository.FrameRef;
import dev.cellar.repository.ManifestEntry;
import dev.cellar.repository.StoredBlock;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.ArrayDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;

/**
 * Backs up one file: reads it once, cuts it into fixed blocks, hashes each block (XXH64) and the
 * whole file (SHA-256), references every block already stored with the same content at the same
 * position (by the parent backup or a failed attempt), and compresses runs of consecutive new
 * blocks together into frames of up to {@link #FRAME_LIMIT} bytes so compression stays effective.
 * For relation files of a cluster with data checksums, every full page is verified as it is read;
 * a failing page is read again once, and a persistent failure is recorded in the entry.
 *
 * <p>One instance per worker thread (it owns its buffers and bundle writer).
 */
public final class FileBackup {

    /** Largest raw frame: consecutive changed blocks are compressed together up to this size. */
    public static final int FRAME_LIMIT = 1 << 20;

    private static final int PAGE = 8192;

    private final Compression compression;
    private final FrameCodec.Codec codec;
    private final BundleWriter bundles;
    private final BlockSource source;
    private final PageVerifier pages;
    private final FrameCompressionPool compressors;
    private final LongAdder bytesDone;
    private byte[] frame = new byte[FRAME_LIMIT];
    /** Frame buffers whose compression is done, to be filled again (no 1 MiB allocation per frame). */
    private final ArrayDeque<byte[]> spareFrames = new ArrayDeque<>();
    private final Stats stats = new Stats();

    /** Frames being compressed, oldest first; appended to the bundle in this order. */
    private final ArrayDeque<PendingFrame> inFlight = new ArrayDeque<>();

    /** At most this many frames of one file are compressed at once (memory: this many MiB). */
    static final int MAX_IN_FLIGHT = 4;

    /** A frame handed to a compressor; its run is filled in when it is appended. */
    private static final class PendingFrame {
        final Future<byte[]> stored;
        final byte[] raw;
        final int first;
        final int end;
        final int rawLength;
        final long[] checksums;
        BlockRun run;

        PendingFrame(Future<byte[]> stored, byte[] raw, int first, int end, int rawLength, long[] checksums) {
            this.stored = stored;
            this.raw = raw;
            this.first = first;
            this.end = end;
            this.rawLength = rawLength;
            this.checksums = checksums;
        }
    }

    /** What this worker did, for progress and for the backup's sizes. */
    public static final class Stats {
        public long bytesRead;
        public long bytesStoredRaw;
        public long bytesStored;
        public long bytesReferenced;
        /** Of those, bytes taken from the parent without reading them (a WAL-derived incremental). */
        public long bytesUnread;
        public long files;
    }

    public FileBackup(Compression compression, BundleWriter bundles, BlockSource source, PageVerifier pages) {
        this(compression, bundles, source, pages, null, null);
    }

    /**
     * @param compressors where frames are compressed while this thread goes on reading and hashing
     *                    (shared by the workers of a backup, same compression); null to compress on this thread
     * @param bytesDone   counts the bytes of the files this worker has gone through (read, or taken from the parent
     *                    unread) as it goes, for progress within a large file; may be null
     */
    public FileBackup(Compression compression, BundleWriter bundles, BlockSource source, PageVerifier pages,
            FrameCompressionPool compressors, LongAdder bytesDone) {
        if (compressors != null && !compressors.compression().equals(compression)) {
            throw new IllegalArgumentException("the compression pool compresses with " + compressors.compression() + ", not " + compression);
        }
        this.compression = compression;
        this.bytesDone = bytesDone;
        this.codec = FrameCodec.Codec.of(compression.algorithm());
        this.bundles = bundles;
        this.source = source;
        this.pages = pages;
        this.compressors = compressors;
    }

    public Stats stats() {
        return stats;
    }

    /**
     * Backs up {@code file}, stored as {@code path}. Copies the bytes present when it is opened: a
     * file that grows meanwhile is copied to the size seen (WAL replay restores the rest).
     *
     * @param relationSegment for a relation file, its segment number ({@code 16384.2} is 2, {@code 16384} is 0); -1 otherwise
     * @param mtime           the modification time observed by the scan
     * @param mode            POSIX permissions observed by the scan
     * @return the entry, or empty when the file vanished (a dropped relation)
     */
    public Optional<ManifestEntry> backup(Path file, String path, int relationSegment, long mtime, int mode) throws IOException {
        return backup(file, path, relationSegment, mtime, mode, null);
    }

    /**
     * Backs up {@code file} reading only some of its blocks (a WAL-derived incremental): the blocks in {@code unread}
     * are taken from the parent's entry of the same path, checksum and location, without reading them, as long as the
     * parent holds them with the same block size and length. The entry then has no SHA-256 (the whole file was not
     * read); its blocks are verified one by one when restored.
     *
     * @param unread null to read every block
     */
    public Optional<ManifestEntry> backup(Path file, String path, int relationSegment, long mtime, int mode, java.util.BitSet unread)
            throws IOException {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException gone) {
            return Optional.empty();
        }
        try (ch) {
            long size = ch.size();
            int blockSize = BlockSizes.forSize(size);
            int blockCount = (int) ((size + blockSize - 1) / blockSize);
            long[] checksums = new long[blockCount];
            List<Object> runs = new ArrayList<>(); // BlockRun, or PendingFrame until its frame is appended
            List<Long> pageFailures = new ArrayList<>();
            MessageDigest sha = sha256();
            boolean skipped = false;
            ManifestEntry parent = unread == null ? null : source.parentEntry(path);
            if (parent != null && parent.blockSize() != blockSize) {
                parent = null; // the file crossed a block size boundary since it was planned: read it all
            }
            ByteBuffer buf = ByteBuffer.allocate(blockSize);
            int pendingFirst = -1;
            int pendingLength = 0;
            for (int b = 0; b < blockCount; b++) {
                long position = (long) b * blockSize;
                int length = (int) Math.min(blockSize, size - position);
                if (parent != null && unread.get(b) && b < parent.blockCount()
                        && Math.min(blockSize, parent.size() - position) == length) {
                    if (pendingFirst >= 0) {
                        flush(runs, path, pendingFirst, b, pendingLength, checksums, blockSize);
                        pendingFirst = -1;
                        pendingLength = 0;
                    }
                    checksums[b] = parent.blockChecksums()[b];
                    addRun(runs, b, source.parentBlock(path, b, length));
                    if (!parent.pageFailures().isEmpty()) {
                        // The parent's failed pages in this block are still what the backup holds.
                        long firstPage = (long) relationSegment * RelationFile.BLOCKS_PER_SEGMENT + position / PAGE;
                        long endPage = firstPage + (length + PAGE - 1) / PAGE;
                        parent.pageFailures().stream().filter(p -> p >= firstPage && p < endPage).forEach(pageFailures::add);
                    }
                    stats.bytesReferenced += length;
                    stats.bytesUnread += length;
                    if (bytesDone != null) {
                        bytesDone.add(length);
                    }
                    skipped = true;
                    continue;
                }
                buf.clear().limit(length);
                int read = readFully(ch, buf, position);
                if (read < length) {
                    // The file shrank while being read (a truncation): keep what was there.
                    length = read;
                }
                byte[] block = buf.array();
                if (pages != null && relationSegment >= 0) {
                    verifyPages(ch, block, length, position, relationSegment, pageFailures);
                }
                sha.update(block, 0, length);
                long checksum = FrameCodec.checksum(block, 0, length);
                checksums[b] = checksum;
                stats.bytesRead += length;
                if (bytesDone != null) {
                    bytesDone.add(length);
                }
                Optional<StoredBlock> stored = length == 0 ? Optional.empty() : source.find(path, b, checksum, length);
                if (stored.isPresent()) {
                    if (pendingFirst >= 0) {
                        flush(runs, path, pendingFirst, b, pendingLength, checksums, blockSize);
                        pendingFirst = -1;
                        pendingLength = 0;
                    }
                    addRun(runs, b, stored.get());
                    stats.bytesReferenced += length;
                } else {
                    if (pendingFirst >= 0 && pendingLength + length > FRAME_LIMIT) {
                        flush(runs, path, pendingFirst, b, pendingLength, checksums, blockSize);
                        pendingFirst = -1;
                        pendingLength = 0;
                    }
                    if (pendingFirst < 0) {
                        pendingFirst = b;
                    }
                    System.arraycopy(block, 0, frame, pendingLength, length);
                    pendingLength += length;
                }
                if (length < blockSize && b < blockCount - 1) {
                    // shrank mid-file: stop here, the entry describes what was read
                    checksums = java.util.Arrays.copyOf(checksums, b + 1);
                    blockCount = b + 1;
                    size = position + length;
                    break;
                }
            }
            if (pendingFirst >= 0) {
                flush(runs, path, pendingFirst, blockCount, pendingLength, checksums, blockSize);
            }
            while (!inFlight.isEmpty()) {
                appendOldest(path, blockSize);
            }
            List<BlockRun> resolved = new ArrayList<>(runs.size());
            for (Object r : runs) {
                resolved.add(r instanceof PendingFrame p ? p.run : (BlockRun) r);
            }
            stats.files++;
            return Optional.of(new ManifestEntry(path, ManifestEntry.Type.FILE, size, mtime, mode,
                    skipped ? null : HexFormat.of().formatHex(sha.digest()), blockSize, checksums, List.copyOf(resolved), null, List.copyOf(pageFailures)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("backup of " + path + " interrupted");
        } finally {
            inFlight.clear();
        }
    }

    private void verifyPages(FileChannel ch, byte[] block, int length, long position, int segment, List<Long> failures) throws IOException {
        for (int off = 0; off + PAGE <= length; off += PAGE) {
            long pageNo = (long) segment * RelationFile.BLOCKS_PER_SEGMENT + (position + off) / PAGE;
            if (pages.verify(block, off, pageNo)) {
                continue;
            }
            // A page being written while we read it can be torn: read it again once.
            ByteBuffer again = ByteBuffer.wrap(block, off, PAGE);
            readFully(ch, again, position + off);
            if (!pages.verify(block, off, pageNo)) {
                failures.add(pageNo);
            }
        }
    }

    private void flush(List<Object> runs, String path, int first, int end, int rawLength, long[] checksums, int blockSize)
            throws IOException, InterruptedException {
        long[] frameChecksums = java.util.Arrays.copyOfRange(checksums, first, end);
        if (compressors == null) {
            byte[] stored = FrameCodec.compress(compression, frame, rawLength);
            FrameRef ref = bundles.append(stored, rawLength, codec, path, first, frameChecksums, blockSize);
            runs.add(new BlockRun(first, end - first, ref, 0));
            stats.bytesStoredRaw += rawLength;
            stats.bytesStored += stored.length;
            return;
        }
        byte[] raw = frame;
        frame = spareFrames.isEmpty() ? new byte[FRAME_LIMIT] : spareFrames.pop(); // the compressor owns the old buffer now
        Future<byte[]> stored = compressors.submit(raw, rawLength);
        PendingFrame p = new PendingFrame(stored, raw, first, end, rawLength, frameChecksums);
        inFlight.add(p);
        runs.add(p);
        if (inFlight.size() >= MAX_IN_FLIGHT) {
            appendOldest(path, blockSize);
        }
    }

    /** Waits for the oldest frame in flight and appends it to the bundle, in file order. */
    private void appendOldest(String path, int blockSize) throws IOException, InterruptedException {
        PendingFrame p = inFlight.removeFirst();
        byte[] stored;
        try {
            stored = p.stored.get();
        } catch (ExecutionException e) {
            throw new IOException("compressing " + path + " failed: " + e.getCause(), e.getCause());
        }
        spareFrames.push(p.raw); // compressed: the buffer can be filled again
        FrameRef ref = bundles.append(stored, p.rawLength, codec, path, p.first, p.checksums, blockSize);
        p.run = new BlockRun(p.first, p.end - p.first, ref, 0);
        stats.bytesStoredRaw += p.rawLength;
        stats.bytesStored += stored.length;
    }

    private static void addRun(List<Object> runs, int block, StoredBlock s) {
        if (!runs.isEmpty() && runs.get(runs.size() - 1) instanceof BlockRun last) {
            if (last.frame().equals(s.frame()) && last.endBlock() == block && last.frameBlock() + last.count() == s.frameBlock()) {
                runs.set(runs.size() - 1, new BlockRun(last.firstBlock(), last.count() + 1, last.frame(), last.frameBlock()));
                return;
            }
        }
        runs.add(new BlockRun(block, 1, s.frame(), s.frameBlock()));
    }

    private static int readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        int total = 0;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, position + total);
            if (n < 0) {
                break;
            }
            total += n;
        }
        return total;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
