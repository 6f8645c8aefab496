package dev.cellar.check;

import java.util.List;

/** Everything {@code cellar check SERVER} found. */
public record CheckReport(String server, List<CheckOutcome> outcomes) {

    /** True when no critical check failed. */
    public boolean passed() {
        return outcomes.stream().noneMatch(CheckOutcome::failsTheCheck);
    }

    public CheckOutcome outcome(String name) {
        return outcomes.stream().filter(o -> o.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no check named " + name));
    }
}
