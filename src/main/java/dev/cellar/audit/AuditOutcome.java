package dev.cellar.audit;

/**
 * How an audited action ended: {@code ok}; {@code refused} (nothing was done: unsafe, busy, not
 * found, a bad request, a pre-hook's veto); or {@code failed} (it was attempted and failed). The
 * message says why, one line; for {@code ok} it may carry a warning or a summary.
 */
public record AuditOutcome(Kind kind, String message) {

    /** The three outcomes; stored in lower case. */
    public enum Kind {
        OK, REFUSED, FAILED;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        public static Kind of(String label) {
            return valueOf(label.toUpperCase(java.util.Locale.ROOT));
        }
    }

    public static AuditOutcome ok() {
        return new AuditOutcome(Kind.OK, null);
    }

    public static AuditOutcome ok(String message) {
        return new AuditOutcome(Kind.OK, message);
    }

    public static AuditOutcome refused(String message) {
        return new AuditOutcome(Kind.REFUSED, message);
    }

    public static AuditOutcome failed(String message) {
        return new AuditOutcome(Kind.FAILED, message);
    }
}
