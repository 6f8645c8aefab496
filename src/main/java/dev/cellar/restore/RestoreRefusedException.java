package dev.cellar.restore;

/** A restore that cannot give what was asked, refused before anything is written; the message says why and what to do. */
public final class RestoreRefusedException extends RuntimeException {

    public RestoreRefusedException(String message) {
        super(message);
    }
}
