package dev.cellar.repository;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cellar.storage.Storage;
import java.io.IOException;
import java.time.Instant;
import java.util.Optional;

/**
 * {@code backups/<ID>/backup.json}: a backup's metadata and its commit point. A backup exists
 * for readers only once this document is written, after its bundles and manifest.
 *
 * @param parent         the backup this incremental references blocks of; null for a full backup
 * @param sizeBytes      the data directory's bytes as read
 * @param storedBytes    bytes of bundles this backup wrote (what it adds to the repository)
 * @param manifestSha256 SHA-256 of manifest.zst, which is trusted only through this document
 * @param incrementalMethod for an incremental, how it found what changed: {@code wal-summaries} (it read only the
 *                       blocks the WAL since its parent's start names) or {@code block-compare}; null for a full backup
 *                       (and for incrementals written before the key existed, which compared blocks)
 * @param incrementalNote  for a WAL-derived incremental the WAL range it read; for a block-compare one why the WAL was
 *                       not used; null otherwise
 */
public record BackupInfo(
        String id,
        String server,
        String type,
        String parent,
        String startLsn,
        String stopLsn,
        int timeline,
        String beginWal,
        String endWal,
        Instant startTime,
        Instant stopTime,
        String label,
        int pgMajor,
        String systemIdentifier,
        long sizeBytes,
        long storedBytes,
        long files,
        long pageChecksumFailures,
        String compression,
        String manifestSha256,
        String backupLabel,
        String tablespaceMap,
        String incrementalMethod,
        String incrementalNote) {

    static final String KIND = "backup";
    public static final String FULL = "full";
    public static final String INCREMENTAL = "incremental";

    public static String path(String server, String id) {
        return RepositoryLayout.backupsDir(server) + "/" + id + "/backup.json";
    }

    public static String manifestPath(String server, String id) {
        return RepositoryLayout.backupsDir(server) + "/" + id + "/manifest.zst";
    }

    public void write(Storage storage) throws IOException {
        ObjectNode n = MetadataFile.JSON.createObjectNode();
        n.put("id", id);
        n.put("server", server);
        n.put("status", "done");
        n.put("type", type);
        n.put("parent", parent);
        n.put("start-lsn", startLsn);
        n.put("stop-lsn", stopLsn);
        n.put("timeline", timeline);
        n.put("begin-wal", beginWal);
        n.put("end-wal", endWal);
        n.put("start-time", startTime.toString());
        n.put("stop-time", stopTime.toString());
        n.put("label", label);
        n.put("pg-major", pgMajor);
        n.put("system-identifier", systemIdentifier);
        n.put("size-bytes", sizeBytes);
        n.put("stored-bytes", storedBytes);
        n.put("files", files);
        n.put("page-checksum-failures", pageChecksumFailures);
        n.put("compression", compression);
        n.put("manifest-sha256", manifestSha256);
        n.put("backup-label", backupLabel);
        n.put("tablespace-map", tablespaceMap);
        if (incrementalMethod != null) {
            n.put("incremental-method", incrementalMethod);
            n.put("incremental-note", incrementalNote);
        }
        MetadataFile.write(storage, path(server, id), KIND, n);
    }

    public static Optional<BackupInfo> read(Storage storage, String server, String id) throws IOException {
        return MetadataFile.read(storage, path(server, id), KIND).map(n -> new BackupInfo(
                n.path("id").asText(), n.path("server").asText(), n.path("type").asText(), text(n, "parent"),
                n.path("start-lsn").asText(), n.path("stop-lsn").asText(), n.path("timeline").asInt(),
                n.path("begin-wal").asText(), n.path("end-wal").asText(),
                Instant.parse(n.path("start-time").asText()), Instant.parse(n.path("stop-time").asText()),
                n.path("label").asText(), n.path("pg-major").asInt(), n.path("system-identifier").asText(),
                n.path("size-bytes").asLong(), n.path("stored-bytes").asLong(), n.path("files").asLong(),
                n.path("page-checksum-failures").asLong(), n.path("compression").asText(),
                n.path("manifest-sha256").asText(), n.path("backup-label").asText(), text(n, "tablespace-map"),
                text(n, "incremental-method"), text(n, "incremental-note")));
    }

    private static String text(JsonNode n, String key) {
        JsonNode v = n.get(key);
        return v == null || v.isNull() ? null : v.asText();
    }

    /** Reads the manifest, verifying it against the checksum this document holds. */
    public Manifest manifest(Storage storage) throws IOException {
        byte[] bytes = storage.readAll(manifestPath(server, id));
        try {
            String actual = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
            if (!actual.equals(manifestSha256)) {
                throw new RepositoryFormatException("backup " + id + ": manifest.zst does not match the checksum in backup.json");
            }
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return Manifest.decode(bytes);
    }
}
