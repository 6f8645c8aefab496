package dev.cellar.hooks;

import java.util.Locale;

/** The actions that have hooks; each has a {@code pre-} and a {@code post-} hook (docs/hooks.md). */
public enum Hook {
    /** A base backup (the base-backup job). */
    BACKUP,
    /** A WAL sweep run (the wal-sweep job: {@code archive-wal}, {@code cron}, the scheduler). */
    ARCHIVE,
    /** A restore (the restore job: {@code recover}). */
    RECOVERY,
    /** The deletion of one backup, by {@code cellar delete} or by a retention prune. */
    DELETE;

    /** {@code backup}, {@code archive}, ...: the value of CELLAR_HOOK. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The configuration key of a phase's hook: {@code pre-backup}, {@code post-delete}, ... */
    public String key(Phase phase) {
        return phase.label() + "-" + label();
    }

    /** Before or after the action. */
    public enum Phase {
        PRE, POST;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
