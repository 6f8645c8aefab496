package dev.cellar.repository;

/** A file written by a newer Cellar, in a format this one does not read: never damaged, never to be replaced. */
public class NewerFormatException extends RepositoryFormatException {

    public NewerFormatException(String message) {
        super(message);
    }
}
