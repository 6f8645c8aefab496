package dev.cellar.repository;

import dev.cellar.storage.Storage;
import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Reads a backed-up file back out of the repository through its resolved block map, verifying
 * everything on the way: each frame's XXH64 before it is decoded, each block's XXH64, and the
 * whole file's SHA-256 at the end (when the manifest has one: a file a WAL-derived incremental read in
 * part has none). Any mismatch is an error naming the file; nothing is
 * silently repaired. One instance per thread (it keeps the last decoded frame).
 */
public final class StoredFileReader {

    private final Storage storage;
    private final String server;
    private FrameRef cachedRef;
    private byte[] cachedRaw;
    private long bytesFetched;

    public StoredFileReader(Storage storage, String server) {
        this.storage = storage;
        this.server = server;
    }

    /** Stored bytes fetched from the repository so far. */
    public long bytesFetched() {
        return bytesFetched;
    }

    /** Writes the file's content to {@code out}, verified as {@link #restore} verifies it. */
    public void copy(ManifestEntry entry, OutputStream out) throws IOException {
        MessageDigest sha = sha256();
        restoreBlocks(entry, null, 0, 0, entry.blockCount(), (data, offset, length) -> {
            sha.update(data, offset, length);
            out.write(data, offset, length);
        });
        checkDigest(entry, sha);
    }

    /** Receives a file's content in order, as it is verified; the bytes are valid only during the call. */
    public interface ContentSink {
        void accept(byte[] data, int offset, int length) throws IOException;
    }

    /**
     * Writes the file's content into {@code channel} (positions from 0; the channel is truncated to
     * the file's size). With {@code compareExisting}, the channel's current content is read block by
     * block and only blocks whose XXH64 differs from the manifest's are fetched and written (a delta
     * restore); frames none of whose blocks are needed are never fetched. The whole file's SHA-256 is
     * verified over the final content either way. Returns the bytes written.
     */
    public long restore(ManifestEntry entry, java.nio.channels.FileChannel channel, boolean compareExisting) throws IOException {
        MessageDigest sha = sha256();
        long written = restoreBlocks(entry, channel, compareExisting ? channel.size() : 0, 0, entry.blockCount(),
                (data, offset, length) -> sha.update(data, offset, length));
        finish(entry, channel, sha);
        return written;
    }

    /** Truncates to the file's size and checks the SHA-256 of everything {@link #restoreBlocks} passed to the digest. */
    public static void finish(ManifestEntry entry, java.nio.channels.FileChannel channel, MessageDigest sha) throws IOException {
        if (channel.size() != entry.size()) {
            channel.truncate(entry.size());
        }
        checkDigest(entry, sha);
    }

    private static void checkDigest(ManifestEntry entry, MessageDigest sha) {
        if (entry.sha256() == null) {
            return; // read in part by a WAL-derived incremental: its blocks were verified one by one
        }
        String actual = HexFormat.of().formatHex(sha.digest());
        if (!actual.equals(entry.sha256())) {
            throw corrupt(entry, "SHA-256 " + actual + " does not match the manifest's " + entry.sha256());
        }
    }

    /**
     * Writes blocks {@code [fromBlock, toBlock)} of the file into {@code channel} at their positions,
     * each verified against its XXH64 (and its frame's), and hands their content, in order, to
     * {@code sink}. Blocks lying wholly below {@code existingSize} are first read from the channel
     * and kept when they already match (a delta restore). Several threads may restore disjoint block
     * ranges of one file into one channel, each with its own reader. With a null channel nothing is
     * written (the sink alone receives the content). Returns the bytes written.
     */
    public long restoreBlocks(ManifestEntry entry, java.nio.channels.FileChannel channel, long existingSize, int fromBlock, int toBlock,
                              ContentSink sink) throws IOException {
        if (entry.type() != ManifestEntry.Type.FILE) {
            throw new IllegalArgumentException(entry.path() + " is not a file");
        }
        byte[] current = new byte[entry.blockSize()];
        long written = 0;
        int expectedBlock = 0;
        java.nio.ByteBuffer pending = null;
        long pendingAt = 0;
        for (BlockRun run : entry.runs()) {
            if (run.firstBlock() != expectedBlock) {
                throw corrupt(entry, "block map has a hole at block " + expectedBlock);
            }
            expectedBlock = run.endBlock();
            if (run.endBlock() <= fromBlock || run.firstBlock() >= toBlock) {
                continue;
            }
            byte[] raw = null;
            int first = Math.max(0, fromBlock - run.firstBlock());
            int last = Math.min(run.count(), toBlock - run.firstBlock());
            for (int i = first; i < last; i++) {
                int block = run.firstBlock() + i;
                long position = (long) block * entry.blockSize();
                int length = (int) Math.min(entry.blockSize(), entry.size() - position);
                if (position + length <= existingSize) {
                    java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(current, 0, length);
                    while (buf.hasRemaining()) {
                        if (channel.read(buf, position + buf.position()) < 0) {
                            throw new java.io.EOFException(entry.path());
                        }
                    }
                    if (FrameCodec.checksum(current, 0, length) == entry.blockChecksums()[block]) {
                        sink.accept(current, 0, length);
                        continue;
                    }
                }
                if (raw == null) {
                    raw = frame(entry, run.frame());
                }
                int start = (run.frameBlock() + i) * entry.blockSize();
                if (start + length > raw.length) {
                    throw corrupt(entry, "block " + block + " lies beyond its frame in " + run.frame().bundle());
                }
                if (FrameCodec.checksum(raw, start, length) != entry.blockChecksums()[block]) {
                    throw corrupt(entry, "block " + block + " does not match its checksum (frame at " + run.frame().bundle()
                            + " offset " + run.frame().offset() + ")");
                }
                sink.accept(raw, start, length);
                if (channel == null) {
                    continue;
                }
                // Coalesce consecutive blocks of one frame into one write.
                if (pending != null && pendingAt + pending.limit() == position && raw == pending.array()
                        && pending.arrayOffset() + pending.limit() == start) {
                    pending = java.nio.ByteBuffer.wrap(raw, pending.arrayOffset(), pending.limit() + length).slice();
                } else {
                    written += flush(channel, pending, pendingAt);
                    pending = java.nio.ByteBuffer.wrap(raw, start, length).slice();
                    pendingAt = position;
                }
            }
        }
        written += flush(channel, pending, pendingAt);
        if (expectedBlock != entry.blockCount()) {
            throw corrupt(entry, "block map ends at block " + expectedBlock + " of " + entry.blockCount());
        }
        return written;
    }

    /** A SHA-256 digest. */
    public static MessageDigest newSha256() {
        return sha256();
    }

    private static long flush(java.nio.channels.FileChannel channel, java.nio.ByteBuffer pending, long at) throws IOException {
        if (pending == null || channel == null) {
            return 0;
        }
        long n = pending.remaining();
        long pos = at;
        while (pending.hasRemaining()) {
            pos += channel.write(pending, pos);
        }
        return n;
    }

    private byte[] frame(ManifestEntry entry, FrameRef ref) throws IOException {
        if (ref.equals(cachedRef)) {
            return cachedRaw;
        }
        byte[] stored;
        try {
            stored = storage.readRange(server + "/" + ref.bundle(), ref.offset(), ref.storedLength());
        } catch (java.nio.file.NoSuchFileException e) {
            throw corrupt(entry, "bundle " + ref.bundle() + " is missing");
        } catch (java.io.EOFException e) {
            throw corrupt(entry, "bundle " + ref.bundle() + " is truncated: " + e.getMessage());
        }
        bytesFetched += stored.length;
        if (FrameCodec.checksum(stored, 0, stored.length) != ref.checksum()) {
            throw corrupt(entry, "frame at " + ref.bundle() + " offset " + ref.offset() + " does not match its checksum (the bundle is damaged)");
        }
        try {
            cachedRaw = FrameCodec.decompress(ref.codec(), stored, ref.rawLength());
        } catch (RepositoryFormatException e) {
            throw corrupt(entry, "frame at " + ref.bundle() + " offset " + ref.offset() + ": " + e.getMessage());
        }
        cachedRef = ref;
        return cachedRaw;
    }

    private static RepositoryFormatException corrupt(ManifestEntry entry, String what) {
        return new RepositoryFormatException(entry.path() + ": " + what);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
