package dev.cellar.backup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.repository.BackupInfo;
import dev.cellar.repository.ManifestEntry;
import dev.cellar.repository.StoredFileReader;
import dev.cellar.storage.Storage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads a backup back through the repository API and compares it with a data directory. */
final class BackupVerification {

    private BackupVerification() {
    }

    /**
     * Every file of the backup, read back (verifying block checksums and each file's SHA-256), compared
     * with {@code pgdata}; returns the paths that differ.
     */
    static List<String> differingFiles(Storage repo, BackupInfo info, Path pgdata) throws Exception {
        StoredFileReader reader = new StoredFileReader(repo, info.server());
        List<String> differing = new ArrayList<>();
        int files = 0;
        for (ManifestEntry e : info.manifest(repo).entries()) {
            if (e.type() != ManifestEntry.Type.FILE) {
                continue;
            }
            files++;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            reader.copy(e, out);
            Path live = pgdata.resolve(e.path());
            if (!Files.exists(live) || !java.util.Arrays.equals(Files.readAllBytes(live), out.toByteArray())) {
                differing.add(e.path());
            }
        }
        assertThat(files).isGreaterThan(500);
        return differing;
    }
}
