package dev.cellar.repository;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.luben.zstd.Zstd;
import dev.cellar.storage.Storage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

/**
 * What the published bundles of one backup directory already hold, read from their
 * {@code .idx} files: (path, block index, checksum) to stored block. A restarted backup consults
 * it so that nothing the failed attempt stored is written again.
 */
public final class BundleIndex {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, Map<Integer, Located>> byPath = new HashMap<>();
    private long bytes;
    private int bundles;

    private record Located(long checksum, StoredBlock block) {
    }

    /** An index of nothing. */
    public static BundleIndex empty() {
        return new BundleIndex();
    }

    /** Reads every published bundle index under {@code <server>/<bundlesDir>}; bundles without an index are ignored. */
    public static BundleIndex read(Storage storage, String server, String bundlesDir) throws IOException {
        BundleIndex idx = new BundleIndex();
        for (Storage.Entry e : storage.list(server + "/" + bundlesDir)) {
            if (!e.name().endsWith(".idx")) {
                continue;
            }
            String bundle = bundlesDir + "/" + e.name().substring(0, e.name().length() - 4);
            if (!storage.exists(server + "/" + bundle)) {
                continue;
            }
            byte[] stored = storage.readAll(server + "/" + bundlesDir + "/" + e.name());
            long size = Zstd.getFrameContentSize(stored);
            String text = new String(Zstd.decompress(stored, (int) size), StandardCharsets.UTF_8);
            for (String line : text.split("\n")) {
                if (line.isEmpty()) {
                    continue;
                }
                JsonNode n = JSON.readTree(line);
                FrameRef ref = new FrameRef(bundle, n.get("offset").asLong(), n.get("stored").asInt(), n.get("raw").asInt(),
                        FrameCodec.Codec.of(n.get("codec").asText()), Long.parseUnsignedLong(n.get("xxh64").asText(), 16));
                String path = n.get("path").asText();
                int first = n.get("first").asInt();
                int blockSize = n.get("block-size").asInt();
                String hex = n.get("blocks").asText();
                Map<Integer, Located> blocks = idx.byPath.computeIfAbsent(path, p -> new HashMap<>());
                int count = hex.length() / 16;
                for (int b = 0; b < count; b++) {
                    int length = Math.min(blockSize, ref.rawLength() - b * blockSize);
                    blocks.put(first + b, new Located(HexFormat.of().fromHexDigitsToLong(hex, b * 16, b * 16 + 16), new StoredBlock(ref, b, length)));
                }
            }
            idx.bytes += storage.size(server + "/" + bundle);
            idx.bundles++;
        }
        return idx;
    }

    /** The stored block with this content at this position of this file, if one is published. */
    public Optional<StoredBlock> find(String path, int block, long checksum, int length) {
        Map<Integer, Located> blocks = byPath.get(path);
        if (blocks == null) {
            return Optional.empty();
        }
        Located l = blocks.get(block);
        return l != null && l.checksum() == checksum && l.block().length() == length ? Optional.of(l.block()) : Optional.empty();
    }

    /** Raw bytes of all blocks the indexed bundles hold. */
    public long rawBytes() {
        return byPath.values().stream().flatMap(m -> m.values().stream()).mapToLong(l -> l.block().length()).sum();
    }

    public long bytes() {
        return bytes;
    }

    public int bundles() {
        return bundles;
    }
}
