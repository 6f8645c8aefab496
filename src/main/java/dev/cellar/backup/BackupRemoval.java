package dev.cellar.backup;

import dev.cellar.repository.BackupCatalog;
import dev.cellar.repository.BackupInfo;
import dev.cellar.repository.BlockRun;
import dev.cellar.repository.ManifestEntry;
import dev.cellar.repository.RepositoryLayout;
import dev.cellar.repository.RepositoryLock;
import dev.cellar.storage.Storage;
import java.io.IOException;
import java.util.List;

/**
 * {@code cellar delete SERVER ID}: removes one committed backup, under the server's backup lock (a
 * running backup may be using it as its parent). Refused when another backup references blocks
 * stored by this one, or when fewer than {@code minimum-redundancy} backups would remain.
 *
 * <p>Order (docs/design.md 5.8): un-commit first ({@code backup.json.copy}, then
 * {@code backup.json}: from then on the backup does not exist), then its manifest, bundles and
 * indexes, then its directory. A crash midway leaves only unreferenced files, which prune removes.
 */
public final class BackupRemoval {

    /** Thrown when deleting would lose data another backup needs, or break minimum redundancy. */
    public static final class RefusedException extends RuntimeException {
        public RefusedException(String message) {
            super(message);
        }
    }

    /** What was deleted. */
    public record Result(String server, String id, long bytesFreed, int filesDeleted) {
    }

    private BackupRemoval() {
    }

    public static Result delete(Storage storage, String server, String id, int minimumRedundancy) throws IOException {
        try (RepositoryLock lock = RepositoryLock.acquire(storage, server, "backup", "delete " + id)) {
            BackupCatalog catalog = new BackupCatalog(storage, server);
            List<BackupInfo> all = catalog.list();
            BackupInfo target = all.stream().filter(b -> b.id().equals(id)).findFirst()
                    .orElseThrow(() -> new java.util.NoSuchElementException("server " + server + " has no backup " + id));
            if (all.size() - 1 < minimumRedundancy) {
                throw new RefusedException("deleting backup " + id + " would leave " + (all.size() - 1) + " backups of server " + server
                        + ", fewer than its minimum-redundancy of " + minimumRedundancy);
            }
            for (BackupInfo other : all) {
                if (id.equals(other.parent())) {
                    throw new RefusedException("backup " + other.id() + " is an incremental on top of backup " + id + "; delete " + other.id()
                            + " first (retention treats a chain as one)");
                }
            }
            String ownBundles = "backups/" + id + "/";
            for (BackupInfo other : all) {
                if (other.id().equals(id)) {
                    continue;
                }
                for (ManifestEntry e : other.manifest(storage).entries()) {
                    for (BlockRun r : e.runs()) {
                        if (r.frame().bundle().startsWith(ownBundles)) {
                            throw new RefusedException("backup " + other.id() + " references blocks stored by backup " + id
                                    + " (" + e.path() + "); delete " + other.id() + " first");
                        }
                    }
                }
            }
            String dir = RepositoryLayout.backupsDir(server) + "/" + id;
            long freed = 0;
            int files = 0;
            for (String meta : List.of(BackupInfo.path(server, id) + ".copy", BackupInfo.path(server, id))) {
                if (storage.exists(meta)) {
                    freed += storage.size(meta);
                    storage.delete(meta);
                    files++;
                }
            }
            for (Storage.Entry e : storage.list(dir + "/bundles")) {
                freed += e.size();
                storage.delete(dir + "/bundles/" + e.name());
                files++;
            }
            storage.delete(dir + "/bundles");
            for (Storage.Entry e : storage.list(dir)) {
                if (!e.directory()) {
                    freed += e.size();
                    storage.delete(dir + "/" + e.name());
                    files++;
                }
            }
            storage.delete(dir);
            return new Result(server, target.id(), freed, files);
        }
    }
}
