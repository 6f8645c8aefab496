package dev.cellar.repository;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cellar.storage.Storage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

/**
 * A lock in the repository ({@code <server>/locks/<kind>.json}), the last line of defence across
 * processes and hosts: created write-once, so of two takers one fails. It holds the owner's host,
 * pid, process start time and a token. A lock whose owner ran on this host and is gone is stale
 * and is taken over; so is one a {@code cellar serve} node took that its cluster found dead
 * ({@link ClusterNodes}); any other lock of another host is respected (an operator removes it when
 * that host is known dead).
 */
public final class RepositoryLock implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Storage storage;
    private final String path;
    private final String token;

    private RepositoryLock(Storage storage, String path, String token) {
        this.storage = storage;
        this.path = path;
        this.token = token;
    }

    /** Thrown when another live process holds the lock. */
    public static final class HeldException extends RuntimeException {
        public HeldException(String message) {
            super(message);
        }
    }

    public static RepositoryLock acquire(Storage storage, String server, String kind, String purpose) throws IOException {
        String path = RepositoryLayout.locksDir(server) + "/" + kind + ".json";
        String token = UUID.randomUUID().toString();
        ProcessOwner self = ProcessOwner.current();
        com.fasterxml.jackson.databind.node.ObjectNode doc = JSON.createObjectNode()
                .put("host", self.host())
                .put("pid", self.pid())
                .put("process-start", self.processStart())
                .put("time", Instant.now().toString())
                .put("purpose", purpose)
                .put("token", token);
        String node = System.getProperty(ProcessOwner.NODE_PROPERTY);
        if (node != null) {
            doc.put("node", node);
        }
        byte[] body = JSON.writeValueAsBytes(doc);
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                storage.write(path, body, Storage.IfExists.FAIL);
                return new RepositoryLock(storage, path, token);
            } catch (FileAlreadyExistsException held) {
                Optional<JsonNode> owner = readOwner(storage, path);
                if (owner.isPresent() && !isStale(owner.get())) {
                    JsonNode o = owner.get();
                    throw new HeldException("the " + kind + " lock of server " + server + " is held by " + o.path("host").asText() + " pid "
                            + o.path("pid").asLong() + " since " + o.path("time").asText() + " (" + o.path("purpose").asText() + ")");
                }
                storage.delete(path); // stale (or unreadable, i.e. a torn write of a dead process): take it over
            }
        }
        throw new HeldException("the " + kind + " lock of server " + server + " is contended; try again");
    }

    /**
     * Who holds the live locks of a server whose kind matches (a lock of a dead process of this host
     * does not count): e.g. {@code backup}, or every {@code restore-*}. Empty when none.
     */
    public static java.util.List<String> holders(Storage storage, String server, java.util.function.Predicate<String> kind) throws IOException {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (Storage.Entry e : storage.list(RepositoryLayout.locksDir(server))) {
            if (e.directory() || !e.name().endsWith(".json") || !kind.test(e.name().substring(0, e.name().length() - 5))) {
                continue;
            }
            Optional<JsonNode> owner = readOwner(storage, RepositoryLayout.locksDir(server) + "/" + e.name());
            if (owner.isPresent() && !isStale(owner.get())) {
                JsonNode o = owner.get();
                out.add(e.name().substring(0, e.name().length() - 5) + " lock held by " + o.path("host").asText() + " pid " + o.path("pid").asLong()
                        + " since " + o.path("time").asText() + " (" + o.path("purpose").asText() + ")");
            }
        }
        return out;
    }

    private static Optional<JsonNode> readOwner(Storage storage, String path) throws IOException {
        try {
            return Optional.of(JSON.readTree(new String(storage.readAll(path), StandardCharsets.UTF_8)));
        } catch (java.nio.file.NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    static boolean isStale(JsonNode owner) {
        return new ProcessOwner(owner.path("host").asText(), owner.path("pid").asLong(), owner.path("process-start").asLong()).isDeadLocalProcess()
                || ClusterNodes.isDead(owner.path("node").asText(null));
    }

    /** Releases the lock if it is still ours. */
    @Override
    public void close() throws IOException {
        Optional<JsonNode> owner = readOwner(storage, path);
        if (owner.isPresent() && token.equals(owner.get().path("token").asText())) {
            storage.delete(path);
        }
    }
}
