package dev.cellar.wal;

/**
 * A WAL file is not what its name, size or cluster say it should be. The message is one line naming the file
 * and what was expected against what was found; {@link #reason} tells callers which check failed.
 */
public final class WalValidationException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Which check failed. */
    public enum Reason {
        /** Fewer bytes than a long page header (40) were given. */
        TRUNCATED,
        /** The file is not exactly {@code wal_segment_size} bytes. */
        WRONG_SIZE,
        /** {@code xlp_magic} is not the WAL format of the cluster's major version. */
        BAD_MAGIC,
        /** The first page lacks {@code XLP_LONG_HEADER}. */
        NOT_LONG_HEADER,
        /** {@code xlp_tli} cannot belong to a file of the name's timeline. */
        WRONG_TIMELINE,
        /** {@code xlp_pageaddr} is not the start of the segment the name says. */
        WRONG_PAGE_ADDRESS,
        /** {@code xlp_sysid} is another cluster's system identifier. */
        WRONG_SYSTEM,
        /** {@code xlp_seg_size} differs from {@code wal_segment_size}, or the name cannot exist with it. */
        WRONG_SEGMENT_SIZE
    }

    private final Reason reason;

    public WalValidationException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
