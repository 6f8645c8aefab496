package dev.cellar.catalog;

/**
 * The catalog could not be opened: an unreachable or refusing PostgreSQL catalog, an H2 file another process locked
 * or that cannot be created. The message names the catalog's URL and says why, in one line.
 */
public final class CatalogUnavailableException extends RuntimeException {

    public CatalogUnavailableException(String url, Throwable cause) {
        super("cannot open the catalog " + url + ": " + rootMessage(cause), cause);
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
