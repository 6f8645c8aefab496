package dev.cellar.check;

/** The outcome of one check. */
public enum CheckStatus {
    OK,
    /** Something is wrong but backups and recovery still work. */
    WARNING,
    FAILED,
    /** Not run, because a check it depends on failed or it does not apply. */
    SKIPPED
}
