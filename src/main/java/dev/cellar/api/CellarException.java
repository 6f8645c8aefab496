package dev.cellar.api;

/** An error an operator can act on, with the exit code it maps to. The message is shown as is. */
public class CellarException extends RuntimeException {

    private final ExitCode exitCode;

    public CellarException(ExitCode exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public CellarException(ExitCode exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public ExitCode exitCode() {
        return exitCode;
    }
}
