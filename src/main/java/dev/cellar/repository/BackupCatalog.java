package dev.cellar.repository;

import dev.cellar.storage.Storage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The committed backups of a server, read from the repository alone: a directory under
 * {@code backups/} counts only when its backup.json verifies, so an interrupted backup is never
 * half-visible.
 */
public final class BackupCatalog {

    /** A backup directory holding this file is being deleted (by prune): it is not a backup, whatever else it holds. */
    public static final String DELETE_MARKER = "deleting";

    private final Storage storage;
    private final String server;

    public BackupCatalog(Storage storage, String server) {
        this.storage = storage;
        this.server = server;
    }

    /** Committed backups, oldest first (IDs sort by time). */
    public List<BackupInfo> list() throws IOException {
        List<BackupInfo> out = new ArrayList<>();
        for (Storage.Entry e : storage.list(RepositoryLayout.backupsDir(server))) {
            if (e.directory() && !e.name().startsWith(".") && !storage.exists(RepositoryLayout.backupsDir(server) + "/" + e.name() + "/" + DELETE_MARKER)) {
                BackupInfo.read(storage, server, e.name()).ifPresent(out::add);
            }
        }
        return out;
    }

    public Optional<BackupInfo> latest() throws IOException {
        List<BackupInfo> all = list();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /** The backup with this ID, or {@code latest}. */
    public Optional<BackupInfo> find(String idOrLatest) throws IOException {
        if ("latest".equals(idOrLatest)) {
            return latest();
        }
        return BackupInfo.read(storage, server, idOrLatest);
    }
}
