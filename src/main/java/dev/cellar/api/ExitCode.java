package dev.cellar.api;

/**
 * Process exit codes of every {@code cellar} verb. Operators script against these; the table in
 * docs/exit-codes.md is generated from the same meanings and a test keeps the two in step.
 */
public enum ExitCode {
    OK(0, "success"),
    FAILED(1, "the work failed: a critical check failed, a job ended FAILED or STOPPED (`cellar jobs stop`), the catalog a job-running verb needs cannot be opened (`cannot open the catalog URL: why`), or the `cellar serve` running a command went away before it ended"),
    USAGE(2, "bad command line or configuration; nothing was done"),
    WARNING(3, "completed, with warnings worth an operator's attention"),
    NOT_FOUND(4, "the named backup, WAL segment or job execution does not exist"),
    BUSY(5, "another process holds the lock or the embedded catalog (an H2 file URL without `AUTO_SERVER`), or this job identity is already running"),
    REFUSED(6, "refused because it would be unsafe (the message says why); nothing was done"),
    NOT_IMPLEMENTED(9, "this verb is not implemented yet in this version"),
    INTERNAL(70, "an internal error (a bug): please report it with the log");

    private final int code;
    private final String meaning;

    ExitCode(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    public int code() {
        return code;
    }

    public String meaning() {
        return meaning;
    }
}
