package dev.cellar.retention;

/** What retention says of a backup; {@link #label} is what {@code list-backups} shows. */
public enum RetentionStatus {
    /** Required by the policy. */
    VALID("VALID"),
    /** Obsolete by the policy, but a retained backup references its blocks: it stays while that one does. */
    NEEDED("VALID (needed)"),
    /** Not required by the policy: prune deletes it. */
    OBSOLETE("OBSOLETE"),
    /** Kept with all WAL after it ({@code cellar keep --target full}). */
    KEEP_FULL("KEEP:FULL"),
    /** Kept with only the WAL from its begin to its end ({@code cellar keep --target standalone}). */
    KEEP_STANDALONE("KEEP:STANDALONE");

    public final String label;

    RetentionStatus(String label) {
        this.label = label;
    }

    public boolean retained() {
        return this != OBSOLETE;
    }
}
