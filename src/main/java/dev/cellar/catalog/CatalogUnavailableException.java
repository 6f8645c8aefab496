package dev.cellar.catalog;

/**
 * The catalog could not be opened: an unreachable or refusing PostgreSQL catalog, an H2 file another process locked
 * or that cannot be created. The message names the catalog's URL and says why, in one line.
 */
public final class CatalogUnavailableException extends RuntimeException {

    public CatalogUnavailableException(String url, Throwable cause) {
        super("cannot open the catalog " + url + ": " + rootMessage(cause), cause);
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        // the driver's own message is the useful one (connection refused, password authentication failed, ...)
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof java.sql.SQLException) {
                return c.getMessage();
            }
        }
        return root.getMessage() != null ? root.getMessage() : root.toString();
    }
}
