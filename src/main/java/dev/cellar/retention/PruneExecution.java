package dev.cellar.retention;

import dev.cellar.repository.BackupCatalog;
import dev.cellar.repository.BackupInfo;
import dev.cellar.repository.BlockRun;
import dev.cellar.repository.ManifestEntry;
import dev.cellar.repository.RepositoryLayout;
import dev.cellar.storage.Storage;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;

/**
 * Carries out a {@link PrunePlan}, idempotently: a rerun after a crash finishes it without errors.
 * Per backup, a delete marker is written first, then {@code backup.json} (both copies: from then
 * on the backup does not exist), the manifest and the other metadata. Then the planned WAL files.
 * Then, in the planned directories, every bundle (and its index) that no committed manifest
 * references <em>now</em> (read again, not taken from the plan), and the directories left empty.
 * The caller holds the server's {@code all} and {@code archive} locks and has checked that no
 * base backup or restore runs.
 */
public final class PruneExecution {

    /** What was deleted. */
    /** @param keptSincePlanned backups the plan meant to delete that were kept since: left, with the WAL and bundles */
    public record Outcome(int backups, int walFiles, int bundleFiles, long bytes, java.util.List<String> keptSincePlanned) {
    }

    /**
     * Called around the deletion of each backup: the delete hooks (docs/hooks.md). Not called for a backup whose
     * deletion an earlier, interrupted prune began (its delete marker exists): that one is finished.
     */
    public interface BackupDeletions {
        /**
         * Before the first file of a backup is deleted. Throwing aborts the prune there: this backup and those
         * after it are left whole, and no WAL file or bundle is deleted.
         */
        void before(String backupId);

        /** After a backup's deletion, also when it failed ({@code error}: the one-line cause; null on success). */
        void after(String backupId, String error);

        BackupDeletions NONE = new BackupDeletions() {
            @Override
            public void before(String backupId) {
            }

            @Override
            public void after(String backupId, String error) {
            }
        };
    }

    private PruneExecution() {
    }

    public static Outcome execute(Storage storage, PrunePlan plan) throws IOException {
        return execute(storage, plan, BackupDeletions.NONE);
    }

    public static Outcome execute(Storage storage, PrunePlan plan, BackupDeletions deletions) throws IOException {
        String server = plan.server();
        long bytes = 0;
        int backups = 0;
        java.util.List<String> skipped = new java.util.ArrayList<>();
        java.util.List<String> toDelete = new java.util.ArrayList<>(plan.deleteBackups());
        for (String id : plan.bundleDirectories()) {
            if (!toDelete.contains(id) && storage.exists(RepositoryLayout.backupsDir(server) + "/" + id + "/" + PrunePlanner.DELETE_MARKER)) {
                toDelete.add(id); // an earlier prune began deleting it: finish
            }
        }
        for (String id : toDelete) {
            String dir = RepositoryLayout.backupsDir(server) + "/" + id;
            boolean marked = storage.exists(dir + "/" + PrunePlanner.DELETE_MARKER);
            if (!marked && KeepTarget.read(storage, server, id).isPresent()) {
                skipped.add(id); // kept since the plan was made (a restarted prune carries out an older plan): not deleted
                continue;
            }
            if (!marked && storage.list(dir).isEmpty()) {
                continue; // gone already
            }
            if (!marked) {
                deletions.before(id);
            }
            try {
                if (!marked) {
                    storage.write(dir + "/" + PrunePlanner.DELETE_MARKER, new byte[0], Storage.IfExists.REPLACE);
                }
                for (String meta : new String[] {BackupInfo.path(server, id) + ".copy", BackupInfo.path(server, id)}) {
                    bytes += Math.max(0, deleteIfExists(storage, meta));
                }
                for (Storage.Entry e : storage.list(dir)) {
                    if (!e.directory() && !e.name().equals(PrunePlanner.DELETE_MARKER)) {
                        bytes += Math.max(0, deleteIfExists(storage, dir + "/" + e.name()));
                    }
                }
            } catch (IOException | RuntimeException e) {
                deletions.after(id, e.toString());
                throw e;
            }
            deletions.after(id, null);
            backups++;
        }
        int wal = 0;
        if (!skipped.isEmpty()) {
            // A backup kept after planning protects its WAL too: the planned WAL cut no longer holds.
            return new Outcome(backups, 0, 0, bytes, skipped);
        }
        for (String path : plan.deleteWal()) {
            if (path.endsWith(".zst")) {
                // the segment's WAL summary (docs/design.md 5.7) first: a crash in between leaves a segment without
                // a summary (a backup falls back), never a summary without its segment
                bytes += Math.max(0, deleteIfExists(storage, path.substring(0, path.length() - 4) + ".summary"));
            }
            long n = deleteIfExists(storage, path);
            if (n >= 0) {
                bytes += n;
                wal++;
            }
        }
        Set<String> referenced = new HashSet<>();
        for (BackupInfo b : new BackupCatalog(storage, server).list()) {
            for (ManifestEntry e : b.manifest(storage).entries()) {
                for (BlockRun r : e.runs()) {
                    referenced.add(r.frame().bundle());
                }
            }
        }
        int bundleFiles = 0;
        for (String id : plan.bundleDirectories()) {
            String dir = RepositoryLayout.backupsDir(server) + "/" + id;
            if (storage.exists(BackupInfo.path(server, id)) && !storage.exists(dir + "/" + PrunePlanner.DELETE_MARKER)) {
                continue; // committed meanwhile (a restarted backup): not garbage
            }
            String bundles = dir + "/bundles";
            boolean anyLeft = false;
            for (Storage.Entry b : storage.list(bundles)) {
                if (referenced.contains("backups/" + id + "/bundles/" + PrunePlanner.bundleNameOf(b.name()))) {
                    anyLeft = true;
                    continue;
                }
                long n = deleteIfExists(storage, bundles + "/" + b.name());
                if (n >= 0) {
                    bytes += n;
                    bundleFiles++;
                }
            }
            if (!anyLeft) {
                deleteDirectory(storage, bundles);
                for (Storage.Entry e : storage.list(dir)) {
                    if (!e.directory() && !e.name().equals(PrunePlanner.DELETE_MARKER)) {
                        bytes += Math.max(0, deleteIfExists(storage, dir + "/" + e.name()));
                    }
                }
                if (deleteDirectory(storage, dir + "/bundles") || !storage.exists(dir + "/bundles")) {
                    storage.delete(dir + "/" + PrunePlanner.DELETE_MARKER);
                    deleteDirectory(storage, dir);
                }
            }
        }
        return new Outcome(backups, wal, bundleFiles, bytes, skipped);
    }

    /**
     * Deletes a directory if it is empty; a directory still holding what a listing does not show (the
     * temporary file of a write killed mid-way) stays, to be removed by hand, and does not fail the prune.
     */
    private static boolean deleteDirectory(Storage storage, String path) throws IOException {
        try {
            return storage.delete(path);
        } catch (java.nio.file.DirectoryNotEmptyException e) {
            org.slf4j.LoggerFactory.getLogger(PruneExecution.class).warn("prune: {} still holds files a listing does not show "
                    + "(temporary files of an interrupted write); left in place", path);
            return false;
        }
    }

    /** Deletes a file; its size, or -1 when it was not there. */
    private static long deleteIfExists(Storage storage, String path) throws IOException {
        long size;
        try {
            size = storage.size(path);
        } catch (java.nio.file.NoSuchFileException e) {
            return -1;
        }
        storage.delete(path);
        return size;
    }
}
