package dev.cellar.repository;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cellar.storage.Storage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * A metadata document of the repository: JSON, written atomically, kept twice ({@code X} and
 * {@code X.copy}) and carrying its own format version and checksum, as pgBackRest keeps its info
 * files. Reading trusts the first copy whose checksum verifies, and refuses when neither does.
 *
 * <pre>{"format": 1, "kind": "server", "content": {...}, "checksum": "sha256:..."}</pre>
 * The checksum covers the canonical form of {@code content}: keys sorted, no white space.
 */
public final class MetadataFile {

    static final ObjectMapper JSON = new ObjectMapper()
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
            .configure(SerializationFeature.INDENT_OUTPUT, true);
    private static final ObjectMapper CANONICAL = new ObjectMapper()
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    private MetadataFile() {
    }

    /** Writes both copies. */
    public static void write(Storage storage, String path, String kind, JsonNode content) throws IOException {
        ObjectNode doc = JSON.createObjectNode();
        doc.put("format", RepositoryLayout.FORMAT_VERSION);
        doc.put("kind", kind);
        doc.set("content", content);
        doc.put("checksum", checksum(content));
        byte[] bytes = JSON.writeValueAsBytes(doc);
        storage.write(path, bytes, Storage.IfExists.REPLACE);
        storage.write(RepositoryLayout.copyOf(path), bytes, Storage.IfExists.REPLACE);
    }

    /**
     * Reads the content of the first valid copy; empty when neither copy exists.
     *
     * @throws RepositoryFormatException when copies exist but none verifies, or the format is newer than this version
     */
    public static Optional<JsonNode> read(Storage storage, String path, String kind) throws IOException {
        List<String> problems = new ArrayList<>();
        boolean any = false;
        for (String p : List.of(path, RepositoryLayout.copyOf(path))) {
            if (!storage.exists(p)) {
                continue;
            }
            any = true;
            try {
                JsonNode doc = JSON.readTree(storage.readAll(p));
                int format = doc.path("format").asInt(-1);
                if (format > RepositoryLayout.FORMAT_VERSION) {
                    throw new RepositoryFormatException(p + " has repository format " + format
                            + "; this Cellar reads format " + RepositoryLayout.FORMAT_VERSION + " (upgrade Cellar)");
                }
                if (format != RepositoryLayout.FORMAT_VERSION || !kind.equals(doc.path("kind").asText())) {
                    problems.add(p + ": not a '" + kind + "' document of format " + RepositoryLayout.FORMAT_VERSION);
                    continue;
                }
                JsonNode content = doc.get("content");
                if (content == null || !checksum(content).equals(doc.path("checksum").asText())) {
                    problems.add(p + ": checksum mismatch");
                    continue;
                }
                return Optional.of(content);
            } catch (com.fasterxml.jackson.core.JacksonException e) {
                problems.add(p + ": not valid JSON (" + e.getOriginalMessage() + ")");
            }
        }
        if (!any) {
            return Optional.empty();
        }
        throw new RepositoryFormatException("no valid copy of " + path + ": " + String.join("; ", problems));
    }

    static String checksum(JsonNode content) {
        try {
            byte[] canonical = CANONICAL.writeValueAsString(sorted(content)).getBytes(StandardCharsets.UTF_8);
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical));
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode sorted(JsonNode node) {
        if (node.isObject()) {
            ObjectNode out = CANONICAL.createObjectNode();
            List<String> names = new ArrayList<>();
            node.fieldNames().forEachRemaining(names::add);
            names.sort(null);
            for (String n : names) {
                out.set(n, sorted(node.get(n)));
            }
            return out;
        }
        if (node.isArray()) {
            var out = CANONICAL.createArrayNode();
            node.forEach(e -> out.add(sorted(e)));
            return out;
        }
        return node;
    }
}
