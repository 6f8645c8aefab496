package dev.cellar.catalog;

/**
 * The catalog could not be opened: an unreachable or refusing PostgreSQL catalog, an H2 file another process locked
 * or that cannot be created. The message names the catalog's URL and says why, in one line.
 */
public final class CatalogUnavailableException extends RuntimeException {

    public CatalogUnavailableException(String url, Throwable cause) {
        super("cannot open the catalog " + url + ": " + rootMessage(cause), cause);
    }

    /** H2's "Database may be already in use": another process has the embedded catalog open. */
    private static final int H2_DATABASE_ALREADY_OPEN = 90020;

    /** Another process holds the catalog (an embedded H2 file opened without AUTO_SERVER): worth trying again later. */
    public boolean heldByAnotherProcess() {
        for (Throwable c = getCause(); c != null; c = c.getCause()) {
            if (c instanceof java.sql.SQLException sql && sql.getErrorCode() == H2_DATABASE_ALREADY_OPEN) {
                return true;
            }
        }
        return false;
    }

    /** The driver's own message (connection refused, password authentication failed, ...), else the root cause's. */
    private static String rootMessage(Throwable t) {
        Throwable root = t;
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof java.sql.SQLException) {
                return c.getMessage();
            }
            root = c;
        }
        return root.getMessage() != null ? root.getMessage() : root.toString();
    }
}
