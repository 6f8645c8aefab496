package dev.cellar.hooks;

import java.time.Duration;
import java.util.List;

/**
 * How one hook run ended.
 *
 * @param name       the hook, e.g. {@code pre-backup}
 * @param command    its argument array
 * @param exitCode   its exit code; -1 when it timed out
 * @param timedOut   whether it was killed for running past the timeout
 * @param killed     how many processes were killed at the timeout (the hook and those it started)
 * @param stderrTail the last lines of its standard error, joined by " | "
 */
public record HookResult(String name, List<String> command, int exitCode, boolean timedOut, int killed, String stderrTail, Duration took) {

    public boolean succeeded() {
        return !timedOut && exitCode == 0;
    }

    /** One line: {@code pre-backup hook [/bin/x, a] exited with code 1: no space left}. */
    public String describe() {
        String what = timedOut
                ? "timed out after " + took.toSeconds() + "s and was killed (" + killed + " process" + (killed == 1 ? "" : "es") + ")"
                : "exited with code " + exitCode;
        return name + " hook " + command + " " + what + (stderrTail.isEmpty() ? "" : ": " + stderrTail);
    }
}
