package dev.cellar.repository;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.luben.zstd.Zstd;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A backup's manifest ({@code backups/<ID>/manifest.zst}): every path of the backup with its
 * resolved block map. Stored as zstd-compressed JSON lines: a header line, then the frame table
 * (each frame any entry references, once), then one line per path in path order. Its SHA-256 is
 * recorded in backup.json, the commit point, so a manifest is trusted only through it.
 */
public record Manifest(String backupId, List<ManifestEntry> entries) {

    /** The manifest format of a backup with file entries without SHA-256 (a WAL-derived incremental); 1 otherwise. */
    public static final int PARTIAL_FILES_FORMAT = 2;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HexFormat HEX = HexFormat.of();

    public ManifestEntry entry(String path) {
        for (ManifestEntry e : entries) {
            if (e.path().equals(path)) {
                return e;
            }
        }
        return null;
    }

    public Map<String, ManifestEntry> byPath() {
        Map<String, ManifestEntry> m = new LinkedHashMap<>();
        entries.forEach(e -> m.put(e.path(), e));
        return m;
    }

    public byte[] encode() {
        Map<FrameRef, Integer> frames = new LinkedHashMap<>();
        for (ManifestEntry e : entries) {
            for (BlockRun r : e.runs()) {
                frames.putIfAbsent(r.frame(), frames.size());
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ObjectNode header = JSON.createObjectNode();
            // Format 2: some file entry has no SHA-256 (read in part); a format-1 reader would fail on it, so it is refused there.
            boolean partial = entries.stream().anyMatch(e -> e.type() == ManifestEntry.Type.FILE && e.sha256() == null);
            header.put("format", partial ? PARTIAL_FILES_FORMAT : RepositoryLayout.FORMAT_VERSION);
            header.put("kind", "manifest");
            header.put("backup", backupId);
            header.put("frames", frames.size());
            header.put("entries", entries.size());
            line(out, header);
            for (FrameRef f : frames.keySet()) {
                ObjectNode n = JSON.createObjectNode();
                n.put("bundle", f.bundle());
                n.put("offset", f.offset());
                n.put("stored", f.storedLength());
                n.put("raw", f.rawLength());
                n.put("codec", f.codec().id);
                n.put("xxh64", Long.toHexString(f.checksum()));
                line(out, n);
            }
            for (ManifestEntry e : entries) {
                ObjectNode n = JSON.createObjectNode();
                n.put("path", e.path());
                n.put("type", e.type().name().toLowerCase());
                n.put("mtime", e.mtime());
                n.put("mode", e.mode());
                if (e.type() == ManifestEntry.Type.LINK) {
                    n.put("link", e.linkTarget());
                }
                if (e.type() == ManifestEntry.Type.FILE) {
                    n.put("size", e.size());
                    if (e.sha256() != null) {
                        n.put("sha256", e.sha256()); // absent: read in part by a WAL-derived incremental
                    }
                    n.put("block-size", e.blockSize());
                    StringBuilder blocks = new StringBuilder(e.blockChecksums().length * 16);
                    for (long c : e.blockChecksums()) {
                        blocks.append(HEX.toHexDigits(c));
                    }
                    n.put("blocks", blocks.toString());
                    ArrayNode runs = n.putArray("runs");
                    for (BlockRun r : e.runs()) {
                        runs.addArray().add(r.firstBlock()).add(r.count()).add(frames.get(r.frame())).add(r.frameBlock());
                    }
                    if (!e.pageFailures().isEmpty()) {
                        ArrayNode pf = n.putArray("page-failures");
                        e.pageFailures().forEach(pf::add);
                    }
                }
                line(out, n);
            }
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        return Zstd.compress(out.toByteArray(), 3);
    }

    private static void line(ByteArrayOutputStream out, JsonNode node) throws IOException {
        out.write(JSON.writeValueAsBytes(node));
        out.write('\n');
    }

    public static Manifest decode(byte[] stored) {
        long size = Zstd.getFrameContentSize(stored);
        if (size < 0 || size > Integer.MAX_VALUE) {
            throw new RepositoryFormatException("manifest is not a zstd frame of known size");
        }
        byte[] raw = Zstd.decompress(stored, (int) size);
        String[] lines = new String(raw, StandardCharsets.UTF_8).split("\n");
        try {
            JsonNode header = JSON.readTree(lines[0]);
            int format = header.path("format").asInt();
            if (!"manifest".equals(header.path("kind").asText()) || format < RepositoryLayout.FORMAT_VERSION) {
                throw new RepositoryFormatException("not a format-" + RepositoryLayout.FORMAT_VERSION + " manifest");
            }
            if (format > PARTIAL_FILES_FORMAT) {
                throw new NewerFormatException("the manifest has format " + format + "; this Cellar reads format " + PARTIAL_FILES_FORMAT
                        + " (upgrade Cellar)");
            }
            int frameCount = header.path("frames").asInt();
            int entryCount = header.path("entries").asInt();
            if (lines.length != 1 + frameCount + entryCount) {
                throw new RepositoryFormatException("manifest has " + (lines.length - 1) + " records, header says " + (frameCount + entryCount));
            }
            List<FrameRef> frames = new ArrayList<>(frameCount);
            for (int i = 0; i < frameCount; i++) {
                JsonNode n = JSON.readTree(lines[1 + i]);
                frames.add(new FrameRef(n.get("bundle").asText(), n.get("offset").asLong(), n.get("stored").asInt(), n.get("raw").asInt(),
                        FrameCodec.Codec.of(n.get("codec").asText()), Long.parseUnsignedLong(n.get("xxh64").asText(), 16)));
            }
            List<ManifestEntry> entries = new ArrayList<>(entryCount);
            for (int i = 0; i < entryCount; i++) {
                JsonNode n = JSON.readTree(lines[1 + frameCount + i]);
                ManifestEntry.Type type = ManifestEntry.Type.valueOf(n.get("type").asText().toUpperCase());
                String path = n.get("path").asText();
                long mtime = n.get("mtime").asLong();
                int mode = n.get("mode").asInt();
                switch (type) {
                    case DIRECTORY -> entries.add(ManifestEntry.directory(path, mtime, mode));
                    case LINK -> entries.add(ManifestEntry.link(path, n.get("link").asText(), mtime));
                    case FILE -> {
                        String hex = n.get("blocks").asText();
                        long[] checksums = new long[hex.length() / 16];
                        for (int b = 0; b < checksums.length; b++) {
                            checksums[b] = HEX.fromHexDigitsToLong(hex, b * 16, b * 16 + 16);
                        }
                        List<BlockRun> runs = new ArrayList<>();
                        for (JsonNode r : n.get("runs")) {
                            runs.add(new BlockRun(r.get(0).asInt(), r.get(1).asInt(), frames.get(r.get(2).asInt()), r.get(3).asInt()));
                        }
                        List<Long> pageFailures = new ArrayList<>();
                        n.path("page-failures").forEach(p -> pageFailures.add(p.asLong()));
                        entries.add(new ManifestEntry(path, type, n.get("size").asLong(), mtime, mode, n.hasNonNull("sha256") ? n.get("sha256").asText() : null,
                                n.get("block-size").asInt(), checksums, List.copyOf(runs), null, List.copyOf(pageFailures)));
                    }
                    default -> throw new IllegalStateException();
                }
            }
            return new Manifest(header.get("backup").asText(), List.copyOf(entries));
        } catch (IOException | RuntimeException e) {
            if (e instanceof RepositoryFormatException rfe) {
                throw rfe;
            }
            throw new RepositoryFormatException("manifest is damaged: " + e.getMessage(), e);
        }
    }
}
