package dev.cellar.repository;

/** The repository holds something this version cannot trust or read: corrupt metadata, an unknown format. */
public class RepositoryFormatException extends RuntimeException {

    public RepositoryFormatException(String message) {
        super(message);
    }

    public RepositoryFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
