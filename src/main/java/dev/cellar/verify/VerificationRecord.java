package dev.cellar.verify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cellar.repository.MetadataFile;
import dev.cellar.repository.RepositoryLayout;
import dev.cellar.storage.Storage;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The outcome of a verification restore, kept beside the backup ({@code backups/<ID>/verification.json},
 * saved twice like all metadata): whether it passed, each check, the failure, and the measured
 * recovery time: restore seconds (files and WAL staged), replay seconds (server start to promoted),
 * and their sum with the checks, the RTO an operator can quote.
 */
public record VerificationRecord(String backupId, boolean passed, Instant time, boolean toEnd, String postgres,
                                 double restoreSeconds, double replaySeconds, double rtoSeconds, List<Check> checks, String failure) {

    /** One check: what, whether it passed, and what it found. */
    public record Check(String name, boolean ok, String detail) {
    }

    static final String KIND = "verification";

    public static String path(String server, String id) {
        return RepositoryLayout.backupsDir(server) + "/" + id + "/verification.json";
    }

    public void write(Storage storage, String server) throws IOException {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("backup", backupId);
        n.put("status", passed ? "passed" : "failed");
        n.put("time", time.toString());
        n.put("to-end", toEnd);
        n.put("postgres", postgres);
        n.put("restore-seconds", restoreSeconds);
        n.put("replay-seconds", replaySeconds);
        n.put("rto-seconds", rtoSeconds);
        ArrayNode a = n.putArray("checks");
        for (Check c : checks) {
            a.addObject().put("name", c.name()).put("ok", c.ok()).put("detail", c.detail());
        }
        n.put("failure", failure);
        MetadataFile.write(storage, path(server, backupId), KIND, n);
    }

    public static Optional<VerificationRecord> read(Storage storage, String server, String id) throws IOException {
        Optional<JsonNode> doc = MetadataFile.read(storage, path(server, id), KIND);
        if (doc.isEmpty()) {
            return Optional.empty();
        }
        JsonNode n = doc.get();
        List<Check> checks = new ArrayList<>();
        n.path("checks").forEach(c -> checks.add(new Check(c.path("name").asText(), c.path("ok").asBoolean(), c.path("detail").asText())));
        return Optional.of(new VerificationRecord(n.path("backup").asText(), "passed".equals(n.path("status").asText()),
                Instant.parse(n.path("time").asText()), n.path("to-end").asBoolean(), n.path("postgres").asText(),
                n.path("restore-seconds").asDouble(), n.path("replay-seconds").asDouble(), n.path("rto-seconds").asDouble(),
                List.copyOf(checks), n.path("failure").isNull() ? null : n.path("failure").asText()));
    }
}
