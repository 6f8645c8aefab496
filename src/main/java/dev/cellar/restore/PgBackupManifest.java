package dev.cellar.restore;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;

/**
 * A PostgreSQL-format {@code backup_manifest} (version 1, the form pg_basebackup writes and
 * pg_verifybackup reads on PostgreSQL 13 to 18), so that PostgreSQL's own tool can check a
 * restored directory: one line per file with its size, modification time and SHA-256, the WAL
 * range the backup needs, and a last line with the SHA-256 of every line before it.
 */
public final class PgBackupManifest {

    /** One file of the directory, relative path, size, modification time (epoch ms) and SHA-256 (hex). */
    public record FileRecord(String path, long size, long mtime, String sha256) {

        /** The record of a file as it lies under {@code dir} now (read whole for its SHA-256). */
        public static FileRecord of(Path dir, String path) throws IOException {
            Path file = dir.resolve(path);
            MessageDigest sha = digest();
            long size = 0;
            try (java.io.InputStream in = Files.newInputStream(file)) {
                byte[] buf = new byte[1 << 16];
                for (int n; (n = in.read(buf)) > 0; ) {
                    sha.update(buf, 0, n);
                    size += n;
                }
            }
            return new FileRecord(path, size, Files.getLastModifiedTime(file).toMillis(), HexFormat.of().formatHex(sha.digest()));
        }
    }

    public record WalRange(int timeline, String startLsn, String endLsn) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter MODIFIED = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'GMT'").withZone(ZoneOffset.UTC);

    private PgBackupManifest() {
    }

    public static String render(List<FileRecord> files, List<WalRange> ranges) {
        StringBuilder sb = new StringBuilder();
        sb.append("{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [");
        boolean first = true;
        for (FileRecord f : files) {
            sb.append(first ? "\n" : ",\n");
            first = false;
            sb.append("{ \"Path\": ").append(quote(f.path()))
                    .append(", \"Size\": ").append(f.size())
                    .append(", \"Last-Modified\": \"").append(MODIFIED.format(Instant.ofEpochMilli(f.mtime()))).append('"')
                    .append(f.sha256() == null ? "" : ", \"Checksum-Algorithm\": \"SHA256\", \"Checksum\": \"" + f.sha256() + "\"")
                    .append(" }");
        }
        sb.append(" ],\n\"WAL-Ranges\": [");
        first = true;
        for (WalRange r : ranges) {
            sb.append(first ? "\n" : ",\n");
            first = false;
            sb.append("{ \"Timeline\": ").append(r.timeline()).append(", \"Start-LSN\": \"").append(r.startLsn())
                    .append("\", \"End-LSN\": \"").append(r.endLsn()).append("\" }");
        }
        sb.append(" ],\n");
        String body = sb.toString();
        return body + "\"Manifest-Checksum\": \"" + sha256(body.getBytes(StandardCharsets.UTF_8)) + "\"}\n";
    }

    /** Writes {@code backup_manifest} into the directory (temporary name, then rename). */
    public static void write(Path dir, List<FileRecord> files, List<WalRange> ranges) throws IOException {
        Path tmp = dir.resolve("backup_manifest" + DataDirectoryRestore.TEMP_SUFFIX);
        Files.writeString(tmp, render(files, ranges), StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(tmp, DataDirectoryRestore.permissions(0600));
        Files.move(tmp, dir.resolve("backup_manifest"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(digest().digest(bytes));
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String quote(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
