package dev.cellar.repository;

/**
 * Where things live inside a repository (format v1, see docs/design.md "Repository format").
 * Every path is relative to the repository root.
 */
public final class RepositoryLayout {

    public static final int FORMAT_VERSION = 1;

    public static final String REPOSITORY_FILE = "cellar-repo.json";

    private RepositoryLayout() {
    }

    public static String serverFile(String server) {
        return server + "/server.json";
    }

    public static String backupsDir(String server) {
        return server + "/backups";
    }

    public static String walDir(String server) {
        return server + "/wal";
    }

    public static String walErrorsDir(String server) {
        return server + "/wal-errors";
    }

    public static String locksDir(String server) {
        return server + "/locks";
    }

    /** The second copy kept of every metadata file. */
    public static String copyOf(String path) {
        return path + ".copy";
    }
}
