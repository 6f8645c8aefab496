package dev.cellar.repository;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cellar.storage.Storage;
import java.io.IOException;
import java.util.Optional;

/**
 * Who a server directory of the repository belongs to. Recorded by the first backup or WAL sweep;
 * anything that does not match it afterwards (another cluster, another major version, another WAL
 * segment size) is refused.
 *
 * @param systemIdentifier the cluster's {@code pg_control_system().system_identifier}, as text (it is unsigned 64-bit)
 */
public record ServerIdentity(String systemIdentifier, int pgMajor, long walSegmentSize) {

    static final String KIND = "server";

    public static Optional<ServerIdentity> read(Storage storage, String server) throws IOException {
        return MetadataFile.read(storage, RepositoryLayout.serverFile(server), KIND).map(ServerIdentity::fromJson);
    }

    public void write(Storage storage, String server) throws IOException {
        ObjectNode n = MetadataFile.JSON.createObjectNode();
        n.put("system-identifier", systemIdentifier);
        n.put("pg-major", pgMajor);
        n.put("wal-segment-size", walSegmentSize);
        MetadataFile.write(storage, RepositoryLayout.serverFile(server), KIND, n);
    }

    private static ServerIdentity fromJson(JsonNode n) {
        return new ServerIdentity(n.path("system-identifier").asText(), n.path("pg-major").asInt(), n.path("wal-segment-size").asLong());
    }

    /** What differs between the recorded identity and a live cluster's, or empty when they match. */
    public Optional<String> mismatch(ServerIdentity live) {
        if (!systemIdentifier.equals(live.systemIdentifier)) {
            return Optional.of("system identifier " + live.systemIdentifier + " differs from the repository's " + systemIdentifier);
        }
        if (pgMajor != live.pgMajor) {
            return Optional.of("PostgreSQL major " + live.pgMajor + " differs from the repository's " + pgMajor);
        }
        if (walSegmentSize != live.walSegmentSize) {
            return Optional.of("WAL segment size " + live.walSegmentSize + " differs from the repository's " + walSegmentSize);
        }
        return Optional.empty();
    }
}
