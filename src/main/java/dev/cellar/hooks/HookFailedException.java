package dev.cellar.hooks;

/**
 * A pre-hook that exited non-zero or timed out: the action it guards is aborted and nothing is
 * changed. The message names the hook, its exit code (or the timeout) and the tail of its stderr.
 */
public class HookFailedException extends RuntimeException {

    private final HookResult result;

    public HookFailedException(HookResult result) {
        super(result.describe());
        this.result = result;
    }

    public HookResult result() {
        return result;
    }
}
