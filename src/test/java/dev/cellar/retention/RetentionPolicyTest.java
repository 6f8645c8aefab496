package dev.cellar.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class RetentionPolicyTest {

    @Test
    void parsesBarmansForms() {
        assertThat(RetentionPolicy.parse("REDUNDANCY 3")).isEqualTo(new RetentionPolicy.Redundancy(3));
        assertThat(RetentionPolicy.parse("  redundancy   2 ")).isEqualTo(new RetentionPolicy.Redundancy(2));
        assertThat(RetentionPolicy.parse("RECOVERY WINDOW OF 7 DAYS").toString()).isEqualTo("RECOVERY WINDOW OF 7 DAYS");
        assertThat(RetentionPolicy.parse("recovery window of 1 week")).isEqualTo(new RetentionPolicy.RecoveryWindow(1, RetentionPolicy.Unit.WEEKS));
    }

    @Test
    void aMonthIsThirtyOneDaysAsInBarman() {
        RetentionPolicy.RecoveryWindow w = (RetentionPolicy.RecoveryWindow) RetentionPolicy.parse("RECOVERY WINDOW OF 2 MONTHS");
        assertThat(w.window()).isEqualTo(Duration.ofDays(62));
        assertThat(((RetentionPolicy.RecoveryWindow) RetentionPolicy.parse("RECOVERY WINDOW OF 3 WEEKS")).window()).isEqualTo(Duration.ofDays(21));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "REDUNDANCY", "REDUNDANCY 0", "REDUNDANCY -1", "RECOVERY WINDOW 7 DAYS", "RECOVERY WINDOW OF 7 YEARS", "KEEP ALL"})
    void rejectsAnythingElseNamingTheExpectedForm(String text) {
        assertThatThrownBy(() -> RetentionPolicy.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theMessageShowsTheForm() {
        assertThatThrownBy(() -> RetentionPolicy.parse("7 days"))
                .hasMessage("'7 days' is not a retention policy; expected " + RetentionPolicy.EXPECTED_FORM);
    }
}
