package dev.cellar.restore;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cellar.restore.PgBackupManifest.FileRecord;
import dev.cellar.restore.PgBackupManifest.WalRange;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PgBackupManifestTest {

    private static final String SHA_A = "a".repeat(64);
    private static final String SHA_B = "0123456789abcdef".repeat(4);

    private static final List<FileRecord> FILES = List.of(
            new FileRecord("PG_VERSION", 3, Instant.parse("2026-11-27T03:04:05.999Z").toEpochMilli(), SHA_A),
            new FileRecord("base/1/we\"ird\\name", 8192, 0, SHA_B),
            new FileRecord("base/1/größe", 16, Instant.parse("2026-01-02T00:00:00Z").toEpochMilli(), SHA_A));
    private static final List<WalRange> RANGES = List.of(new WalRange(1, "0/2000028", "0/2000100"), new WalRange(2, "0/2000100", "0/3000060"));

    /** The checksum as pg_verifybackup checks it: SHA-256 of every byte up to and including the newline before the last line. */
    private static String expectedChecksum(byte[] manifest) throws Exception {
        int lastLineStart = lastLineStart(manifest);
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Arrays.copyOf(manifest, lastLineStart)));
    }

    private static int lastLineStart(byte[] manifest) {
        assertThat(manifest[manifest.length - 1]).as("the manifest ends with a newline").isEqualTo((byte) '\n');
        int i = manifest.length - 2;
        while (manifest[i] != '\n') {
            i--;
        }
        return i + 1;
    }

    private static List<String> lines(String manifest) {
        return manifest.lines().toList();
    }

    @Test
    void the_last_line_carries_the_sha256_of_every_byte_before_it() throws Exception {
        String m = PgBackupManifest.render(FILES, RANGES);
        byte[] bytes = m.getBytes(StandardCharsets.UTF_8);

        String lastLine = new String(bytes, lastLineStart(bytes), bytes.length - lastLineStart(bytes), StandardCharsets.UTF_8);
        assertThat(lastLine).isEqualTo("\"Manifest-Checksum\": \"" + expectedChecksum(bytes) + "\"}\n");
    }

    @Test
    void the_checksum_changes_with_any_file_line() throws Exception {
        String a = PgBackupManifest.render(FILES, RANGES);
        String b = PgBackupManifest.render(List.of(FILES.get(0), FILES.get(1)), RANGES);

        assertThat(lines(a).get(lines(a).size() - 1)).isNotEqualTo(lines(b).get(lines(b).size() - 1));
    }

    @Test
    void the_document_starts_with_version_1_as_pg_basebackup_writes_it() {
        assertThat(lines(PgBackupManifest.render(FILES, RANGES)).subList(0, 2))
                .containsExactly("{ \"PostgreSQL-Backup-Manifest-Version\": 1,", "\"Files\": [");
    }

    @Test
    void each_file_is_one_line_with_path_size_modification_time_in_gmt_and_its_sha256() {
        List<String> lines = lines(PgBackupManifest.render(FILES, RANGES));

        assertThat(lines.get(2)).isEqualTo("{ \"Path\": \"PG_VERSION\", \"Size\": 3, \"Last-Modified\": \"2026-11-27 03:04:05 GMT\", "
                + "\"Checksum-Algorithm\": \"SHA256\", \"Checksum\": \"" + SHA_A + "\" },");
        assertThat(lines.get(3)).isEqualTo("{ \"Path\": \"base/1/we\\\"ird\\\\name\", \"Size\": 8192, \"Last-Modified\": \"1970-01-01 00:00:00 GMT\", "
                + "\"Checksum-Algorithm\": \"SHA256\", \"Checksum\": \"" + SHA_B + "\" },");
    }

    @Test
    void the_whole_document_is_json_with_every_field_read_back() throws Exception {
        JsonNode root = new ObjectMapper().readTree(PgBackupManifest.render(FILES, RANGES));

        assertThat(root.get("PostgreSQL-Backup-Manifest-Version").asInt()).isEqualTo(1);
        JsonNode files = root.get("Files");
        assertThat(files).hasSize(3);
        assertThat(files.get(1).get("Path").asText()).isEqualTo("base/1/we\"ird\\name");
        assertThat(files.get(1).get("Size").asLong()).isEqualTo(8192);
        assertThat(files.get(2).get("Path").asText()).isEqualTo("base/1/größe");
        assertThat(files.get(2).get("Last-Modified").asText()).isEqualTo("2026-01-02 00:00:00 GMT");
        assertThat(files.get(2).get("Checksum-Algorithm").asText()).isEqualTo("SHA256");
        assertThat(files.get(2).get("Checksum").asText()).isEqualTo(SHA_A);
        JsonNode ranges = root.get("WAL-Ranges");
        assertThat(ranges).hasSize(2);
        assertThat(ranges.get(1).get("Timeline").asInt()).isEqualTo(2);
        assertThat(ranges.get(1).get("Start-LSN").asText()).isEqualTo("0/2000100");
        assertThat(ranges.get(1).get("End-LSN").asText()).isEqualTo("0/3000060");
        assertThat(root.get("Manifest-Checksum").asText()).matches("[0-9a-f]{64}");
    }

    @Test
    void an_empty_manifest_is_still_valid_json_with_a_correct_checksum() throws Exception {
        String m = PgBackupManifest.render(List.of(), List.of());

        JsonNode root = new ObjectMapper().readTree(m);
        assertThat(root.get("Files")).isEmpty();
        assertThat(root.get("WAL-Ranges")).isEmpty();
        assertThat(root.get("Manifest-Checksum").asText()).isEqualTo(expectedChecksum(m.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void write_puts_the_rendered_manifest_in_place_readable_only_by_its_owner(@TempDir Path dir) throws Exception {
        PgBackupManifest.write(dir, FILES, RANGES);

        Path written = dir.resolve("backup_manifest");
        assertThat(Files.readString(written, StandardCharsets.UTF_8)).isEqualTo(PgBackupManifest.render(FILES, RANGES));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(written))).isEqualTo("rw-------");
        try (var listing = Files.list(dir)) {
            assertThat(listing.map(p -> p.getFileName().toString())).containsExactly("backup_manifest");
        }
    }
}
