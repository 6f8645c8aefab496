package dev.cellar.jobs.backup;

import dev.cellar.backup.BaseBackup;
import dev.cellar.postgres.BackupSession;
import dev.cellar.repository.RepositoryLock;
import dev.cellar.storage.Storage;

/**
 * What one execution of the base-backup job holds between its steps: the open repository, the
 * lock, and the backup session's connection (PostgreSQL ends the session when that connection
 * closes, so it must live from start to stop). Kept by the job per execution id and closed by its
 * listener however the execution ends.
 */
final class BackupAttempt implements AutoCloseable {

    Storage storage;
    BaseBackup backup;
    BaseBackup.Plan plan;
    RepositoryLock lock;
    BackupSession session;
    BaseBackup.CopyResult copy;
    boolean failOnPageChecksum;

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(BackupAttempt.class);

    @Override
    public void close() throws Exception {
        log.debug("Closing backup attempt: session {}, lock {}", session != null, lock != null);
        try {
            if (session != null) {
                session.close(); // aborts a session not stopped
            }
        } finally {
            session = null;
            try {
                if (lock != null) {
                    lock.close();
                }
            } finally {
                lock = null;
                if (storage != null) {
                    storage.close();
                }
                storage = null;
            }
        }
    }
}
