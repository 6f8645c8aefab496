package dev.cellar.repository;

import dev.cellar.storage.Storage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A consistency audit of a server's backups ({@code cellar check-repository}): every frame every
 * committed manifest references lies in a bundle that exists and is long enough to hold it; and
 * which bundle bytes no committed backup references (what a prune would reclaim, or what a
 * failed backup left). Reads listings and manifests only, never the bundles' content (the restore
 * and verify paths check every byte).
 */
public final class RepositoryAudit {

    /**
     * @param missing           frames whose bundle is absent or too short (the first 20, with the backup and file)
     * @param unreferencedFiles bundle files (and their indexes) no committed backup references
     */
    public record Result(String server, int backups, long frames, List<String> missing, long missingCount, long referencedBytes,
                         long unreferencedFiles, long unreferencedBytes) {
        public boolean consistent() {
            return missingCount == 0;
        }
    }

    private RepositoryAudit() {
    }

    public static Result audit(Storage storage, String server) throws IOException {
        Map<String, Long> bundleSizes = new HashMap<>();
        for (Storage.Entry d : storage.list(RepositoryLayout.backupsDir(server))) {
            if (!d.directory()) {
                continue;
            }
            String dir = "backups/" + d.name() + "/bundles";
            for (Storage.Entry b : storage.list(server + "/" + dir)) {
                bundleSizes.put(dir + "/" + b.name(), b.size());
            }
        }
        List<BackupInfo> backups = new BackupCatalog(storage, server).list();
        Set<String> referenced = new HashSet<>();
        List<String> missing = new ArrayList<>();
        long missingCount = 0;
        long frames = 0;
        for (BackupInfo b : backups) {
            Set<FrameRef> seen = new HashSet<>();
            for (ManifestEntry e : b.manifest(storage).entries()) {
                for (BlockRun r : e.runs()) {
                    FrameRef f = r.frame();
                    if (!seen.add(f)) {
                        continue;
                    }
                    frames++;
                    referenced.add(f.bundle());
                    Long size = bundleSizes.get(f.bundle());
                    if (size == null || size < f.offset() + f.storedLength()) {
                        missingCount++;
                        if (missing.size() < 20) {
                            missing.add("backup " + b.id() + ", " + e.path() + ": frame at " + f.bundle() + " offset " + f.offset()
                                    + (size == null ? " (the bundle is missing)" : " (the bundle is " + size + " bytes, too short)"));
                        }
                    }
                }
            }
        }
        long referencedBytes = 0;
        long unreferencedFiles = 0;
        long unreferencedBytes = 0;
        for (Map.Entry<String, Long> b : bundleSizes.entrySet()) {
            String bundle = b.getKey().endsWith(".idx") ? b.getKey().substring(0, b.getKey().length() - 4) : b.getKey();
            if (referenced.contains(bundle)) {
                referencedBytes += b.getValue();
            } else {
                unreferencedFiles++;
                unreferencedBytes += b.getValue();
            }
        }
        return new Result(server, backups.size(), frames, List.copyOf(missing), missingCount, referencedBytes, unreferencedFiles, unreferencedBytes);
    }
}
