package dev.cellar.restore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cellar.postgres.Lsn;
import java.time.Instant;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class RecoveryTargetTest {

    @Nested
    class ParseTime {

        @Test
        void an_iso_time_in_utc_is_accepted() {
            assertThat(RecoveryTarget.parseTime("2026-11-27T03:00:00Z").at()).isEqualTo(Instant.parse("2026-11-27T03:00:00Z"));
        }

        @Test
        void postgresqls_form_with_an_hour_only_offset_is_accepted() {
            assertThat(RecoveryTarget.parseTime("2026-11-27 03:00:00+01").at()).isEqualTo(Instant.parse("2026-11-27T02:00:00Z"));
        }

        @Test
        void a_negative_hour_only_offset_is_accepted() {
            assertThat(RecoveryTarget.parseTime("2026-11-27 03:00:00-05").at()).isEqualTo(Instant.parse("2026-11-27T08:00:00Z"));
        }

        @Test
        void microseconds_and_a_half_hour_offset_are_kept() {
            assertThat(RecoveryTarget.parseTime("2026-11-27T03:00:00.123456+05:30").at())
                    .isEqualTo(Instant.parse("2026-11-26T21:30:00.123456Z"));
        }

        @Test
        void postgresqls_output_form_with_a_fraction_is_accepted() {
            assertThat(RecoveryTarget.parseTime(" 2026-11-27 03:00:00.5+00 ").at()).isEqualTo(Instant.parse("2026-11-27T03:00:00.500Z"));
        }

        @Test
        void a_time_without_a_zone_is_refused_with_a_hint_to_add_one() {
            assertThatThrownBy(() -> RecoveryTarget.parseTime("2026-11-27 03:00:00"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("--target-time '2026-11-27 03:00:00' has no time zone; a time without one is ambiguous. "
                            + "Add the zone, e.g. '2026-11-27 03:00:00Z' for UTC or '2026-11-27 03:00:00+01:00'");
        }

        @Test
        void an_iso_time_with_a_fraction_but_without_a_zone_gets_the_same_hint() {
            assertThatThrownBy(() -> RecoveryTarget.parseTime("2026-11-27T03:00:00.25"))
                    .hasMessageContaining("has no time zone; a time without one is ambiguous. Add the zone, e.g. '2026-11-27T03:00:00.25Z'");
        }

        @Test
        void both_forms_the_hint_suggests_are_accepted() {
            assertThat(RecoveryTarget.parseTime("2026-11-27 03:00:00Z").at()).isEqualTo(Instant.parse("2026-11-27T03:00:00Z"));
            assertThat(RecoveryTarget.parseTime("2026-11-27 03:00:00+01:00").at()).isEqualTo(Instant.parse("2026-11-27T02:00:00Z"));
        }

        @ParameterizedTest
        @ValueSource(strings = {"yesterday", "2026-11-27", "2026-13-27T03:00:00Z", "27.11.2026 03:00 UTC"})
        void text_that_is_no_timestamp_is_refused_with_an_example(String text) {
            assertThatThrownBy(() -> RecoveryTarget.parseTime(text))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("--target-time '" + text + "' is not a timestamp; expected e.g. 2026-11-27T03:00:00Z or '2026-11-27 03:00:00+01'");
        }
    }

    @Nested
    class Settings {

        @Test
        void a_time_is_written_in_utc_with_microseconds() {
            RecoveryTarget t = RecoveryTarget.parseTime("2026-11-27T03:00:00.123456+05:30");
            assertThat(t.settings()).containsExactly("recovery_target_time = '2026-11-26 21:30:00.123456+00'");
        }

        @Test
        void a_whole_second_time_still_carries_six_fraction_digits() {
            assertThat(new RecoveryTarget.Time(Instant.parse("2026-11-27T03:00:00Z")).settings())
                    .containsExactly("recovery_target_time = '2026-11-27 03:00:00.000000+00'");
        }

        @Test
        void immediate_is_recovery_target_immediate() {
            assertThat(new RecoveryTarget.Immediate().settings()).containsExactly("recovery_target = 'immediate'");
        }

        @Test
        void an_lsn_is_written_in_postgresqls_form() {
            assertThat(RecoveryTarget.parseLsn("16/b374d848").settings()).containsExactly("recovery_target_lsn = '16/B374D848'");
        }

        @Test
        void an_xid_is_written_as_a_number() {
            assertThat(RecoveryTarget.parseXid("4294967295").settings()).containsExactly("recovery_target_xid = '4294967295'");
        }

        @Test
        void a_name_has_its_quotes_doubled() {
            assertThat(RecoveryTarget.parseName("before 'upgrade'").settings())
                    .containsExactly("recovery_target_name = 'before ''upgrade'''");
        }

        @Test
        void a_name_has_its_backslashes_doubled_because_postgresql_conf_reads_them_as_escapes() {
            // Written undoubled, 'nightly\2026' reads back as "nightly" + octal \202 + "6" (checked with postgres -C).
            assertThat(RecoveryTarget.parseName("nightly\\2026").settings())
                    .containsExactly("recovery_target_name = 'nightly\\\\2026'");
        }
    }

    @Nested
    class Of {

        @Test
        void two_targets_are_refused() {
            assertThatThrownBy(() -> RecoveryTarget.of("2026-11-27T03:00:00Z", "0/5000028", null, null, false))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("give at most one recovery target (--target-time, --target-lsn, --target-xid, --target-name, --target-immediate)");
        }

        @Test
        void a_target_together_with_immediate_is_refused() {
            assertThatThrownBy(() -> RecoveryTarget.of(null, null, null, "x", true))
                    .hasMessageStartingWith("give at most one recovery target");
        }

        @Test
        void no_target_means_the_end_of_the_archived_wal() {
            assertThat(RecoveryTarget.of(null, null, null, null, false)).isNull();
        }

        @Test
        void each_single_option_gives_its_kind() {
            assertThat(RecoveryTarget.of("2026-11-27T03:00:00Z", null, null, null, false))
                    .isEqualTo(new RecoveryTarget.Time(Instant.parse("2026-11-27T03:00:00Z")));
            assertThat(RecoveryTarget.of(null, "0/5000028", null, null, false)).isEqualTo(new RecoveryTarget.AtLsn(Lsn.parse("0/5000028")));
            assertThat(RecoveryTarget.of(null, null, "1234", null, false)).isEqualTo(new RecoveryTarget.Xid(1234));
            assertThat(RecoveryTarget.of(null, null, null, "before-upgrade", false)).isEqualTo(new RecoveryTarget.Name("before-upgrade"));
            assertThat(RecoveryTarget.of(null, null, null, null, true)).isEqualTo(new RecoveryTarget.Immediate());
        }
    }

    @Nested
    class Xid {

        @ParameterizedTest
        @ValueSource(strings = {"3", "4294967295", " 740 "})
        void xids_from_3_to_2_to_the_32_minus_1_are_accepted(String text) {
            assertThat(RecoveryTarget.parseXid(text).xid()).isEqualTo(Long.parseLong(text.trim()));
        }

        @ParameterizedTest
        @ValueSource(strings = {"0", "2", "4294967296", "-1", "abc", "12.5", ""})
        void anything_else_is_refused(String text) {
            assertThatThrownBy(() -> RecoveryTarget.parseXid(text))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("--target-xid '" + text + "' is not a transaction id (a number from 3 to 4294967295)");
        }
    }

    @Nested
    class Name {

        @Test
        void a_name_of_63_bytes_is_accepted() {
            String name = "n".repeat(63);
            assertThat(RecoveryTarget.parseName(name).name()).isEqualTo(name);
        }

        @Test
        void a_name_with_a_control_character_is_refused_because_postgresql_auto_conf_cannot_hold_it() {
            assertThatThrownBy(() -> RecoveryTarget.parseName("line\nbreak"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("--target-name must not contain control characters (postgresql.auto.conf cannot hold them)");
            assertThat(RecoveryTarget.parseName("release|2026").name()).isEqualTo("release|2026");
        }

        @Test
        void a_name_of_64_bytes_is_refused() {
            assertThatThrownBy(() -> RecoveryTarget.parseName("n".repeat(64)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("--target-name must be 1 to 63 bytes (PostgreSQL's restore point names are)");
        }

        @Test
        void the_limit_counts_utf8_bytes_not_characters() {
            assertThat(RecoveryTarget.parseName("é".repeat(31) + "n").name()).hasSize(32); // 63 bytes
            assertThatThrownBy(() -> RecoveryTarget.parseName("é".repeat(32))) // 32 characters, 64 bytes
                    .hasMessageStartingWith("--target-name must be 1 to 63 bytes");
        }

        @Test
        void an_empty_name_is_refused() {
            assertThatThrownBy(() -> RecoveryTarget.parseName("")).hasMessageStartingWith("--target-name must be 1 to 63 bytes");
        }
    }

    @Nested
    class Encoding {

        static Stream<Arguments> everyKind() {
            return Stream.of(
                    Arguments.of(null, "end"),
                    Arguments.of(new RecoveryTarget.Immediate(), "immediate"),
                    Arguments.of(new RecoveryTarget.Time(Instant.parse("2026-11-27T02:00:00.123456Z")), "time:2026-11-27T02:00:00.123456Z"),
                    Arguments.of(new RecoveryTarget.AtLsn(Lsn.parse("16/B374D848")), "lsn:16/B374D848"),
                    Arguments.of(new RecoveryTarget.Xid(4294967295L), "xid:4294967295"),
                    Arguments.of(new RecoveryTarget.Name("deploy: v2 | 'rc1'"), "name:deploy: v2 | 'rc1'"));
        }

        @ParameterizedTest
        @MethodSource("everyKind")
        void every_kind_encodes_to_its_documented_form_and_decodes_to_an_equal_target(RecoveryTarget target, String encoded) {
            assertThat(RecoveryTarget.encode(target)).isEqualTo(encoded);
            assertThat(RecoveryTarget.decode(encoded)).isEqualTo(target);
        }

        @Test
        void an_unknown_kind_is_refused() {
            assertThatThrownBy(() -> RecoveryTarget.decode("when:tomorrow"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("unknown recovery target when:tomorrow");
        }

        @Test
        void every_kind_of_the_sealed_interface_is_covered_here() {
            assertThat(Arrays.stream(RecoveryTarget.class.getPermittedSubclasses()).map(Class::getSimpleName))
                    .containsExactlyInAnyOrder("Immediate", "Time", "AtLsn", "Xid", "Name");
        }
    }
}
