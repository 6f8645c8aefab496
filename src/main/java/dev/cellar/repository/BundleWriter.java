package dev.cellar.repository;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.luben.zstd.Zstd;
import dev.cellar.storage.Storage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.HexFormat;

/**
 * Packs frames into write-once bundles of about {@link #TARGET_SIZE} bytes under
 * {@code backups/<ID>/bundles/}. A bundle is published whole (and so is all-or-nothing) when it
 * is full or when the writer is sealed, followed by its index {@code <name>.idx}: which file
 * blocks each of its frames holds. A restarted backup reads the indexes to reuse every frame the
 * failed attempt stored instead of writing it again.
 *
 * <p>One writer per worker thread; frames get their final {@link FrameRef} when appended, and
 * become readable once their bundle is published, which {@link #seal} guarantees for all of them.
 */
public final class BundleWriter {

    public static final int TARGET_SIZE = 32 * 1024 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HexFormat HEX = HexFormat.of();

    private final Storage storage;
    private final String server;
    private final String bundlesDir;
    private final String prefix;
    private final int targetSize;
    private int sequence;
    private ByteArrayOutputStream data;
    private ByteArrayOutputStream index;
    private String current;
    private long bytesPublished;
    /** Stored bytes of the open bundle, not yet in the repository (read by progress reports on another thread). */
    private volatile long bytesUnpublished;

    /**
     * @param bundlesDir relative to the server directory, e.g. {@code backups/20261127T020000/bundles}
     * @param prefix     unique per writer and attempt, so no two writers ever pick the same name
     */
    public BundleWriter(Storage storage, String server, String bundlesDir, String prefix, int targetSize) {
        this.storage = storage;
        this.server = server;
        this.bundlesDir = bundlesDir;
        this.prefix = prefix;
        this.targetSize = targetSize;
    }

    /**
     * Appends a stored frame holding blocks {@code [firstBlock, firstBlock + checksums.length)} of
     * {@code path}; returns its reference. Publishes the bundle once it reaches the target size.
     */
    public FrameRef append(byte[] stored, int rawLength, FrameCodec.Codec codec, String path, int firstBlock, long[] checksums,
                           int blockSize) throws IOException {
        if (data == null) {
            current = bundlesDir + "/" + prefix + "-" + String.format("%06d", ++sequence);
            data = new ByteArrayOutputStream(Math.min(targetSize + (1 << 20), 64 << 20));
            index = new ByteArrayOutputStream();
        }
        FrameRef ref = new FrameRef(current, data.size(), stored.length, rawLength, codec, FrameCodec.checksum(stored, 0, stored.length));
        data.write(stored);
        bytesUnpublished = data.size();
        ObjectNode n = JSON.createObjectNode();
        n.put("offset", ref.offset());
        n.put("stored", ref.storedLength());
        n.put("raw", ref.rawLength());
        n.put("codec", codec.id);
        n.put("xxh64", Long.toHexString(ref.checksum()));
        n.put("path", path);
        n.put("first", firstBlock);
        n.put("block-size", blockSize);
        StringBuilder sb = new StringBuilder();
        for (long c : checksums) {
            sb.append(HEX.toHexDigits(c));
        }
        n.put("blocks", sb.toString());
        index.write(JSON.writeValueAsBytes(n));
        index.write('\n');
        if (data.size() >= targetSize) {
            seal();
        }
        return ref;
    }

    /** Publishes the open bundle, if any, and its index. */
    public void seal() throws IOException {
        if (data == null) {
            return;
        }
        storage.write(server + "/" + current, data.toByteArray(), Storage.IfExists.FAIL);
        storage.write(server + "/" + current + ".idx", Zstd.compress(index.toByteArray(), 3), Storage.IfExists.FAIL);
        bytesPublished += data.size();
        bytesUnpublished = 0;
        data = null;
        index = null;
    }

    /**
     * Stored bytes appended to the open bundle and not yet written to the repository (up to about {@link #TARGET_SIZE});
     * safe to read from any thread. A bundle being written counts until its write and its index's are done.
     */
    public long bytesUnpublished() {
        return bytesUnpublished;
    }

    /** Bytes of bundles this writer has published. */
    public long bytesPublished() {
        return bytesPublished;
    }
}
