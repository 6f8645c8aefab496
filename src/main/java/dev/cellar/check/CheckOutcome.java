package dev.cellar.check;

/**
 * One line of {@code cellar check}.
 *
 * @param critical whether a failure here makes the whole check fail (exit code 1)
 * @param detail   what was found, in a few words
 * @param hint     what to do about a failure; empty when OK
 */
public record CheckOutcome(String name, CheckStatus status, boolean critical, String detail, String hint) {

    public static CheckOutcome ok(String name, String detail) {
        return new CheckOutcome(name, CheckStatus.OK, true, detail, "");
    }

    public static CheckOutcome failed(String name, String detail, String hint) {
        return new CheckOutcome(name, CheckStatus.FAILED, true, detail, hint);
    }

    public static CheckOutcome warning(String name, String detail, String hint) {
        return new CheckOutcome(name, CheckStatus.WARNING, false, detail, hint);
    }

    public static CheckOutcome skipped(String name, String why) {
        return new CheckOutcome(name, CheckStatus.SKIPPED, false, why, "");
    }

    public boolean failsTheCheck() {
        return critical && status == CheckStatus.FAILED;
    }
}
