package dev.cellar.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cellar.postgres.Lsn;
import dev.cellar.wal.TimelineHistory.Step;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TimelineHistoryTest {

    private static final long MIB_16 = 16L << 20;

    /** 00000003.history as PostgreSQL writes it: timeline 1 ended at 0/3000000, timeline 2 at 0/5000028 (a blank line between, as when a reason ends a line). */
    private static final String HISTORY_3 = "1\t0/3000000\tno recovery target specified\n\n2\t0/5000028\tat restore point \"x\"\n";

    private static Lsn lsn(String s) {
        return Lsn.parse(s);
    }

    @Test
    void a_history_file_gives_one_step_per_ancestor_then_the_open_target_timeline() {
        TimelineHistory h = TimelineHistory.parse(3, HISTORY_3);

        assertThat(h.timeline()).isEqualTo(3);
        assertThat(h.steps()).containsExactly(
                new Step(1, Lsn.ZERO, lsn("0/3000000")),
                new Step(2, lsn("0/3000000"), lsn("0/5000028")),
                new Step(3, lsn("0/5000028"), null));
    }

    @Test
    void step_finds_a_timeline_of_the_path_and_null_for_one_off_it() {
        TimelineHistory h = TimelineHistory.parse(3, HISTORY_3);

        assertThat(h.step(2)).isEqualTo(new Step(2, lsn("0/3000000"), lsn("0/5000028")));
        assertThat(h.step(3).end()).isNull();
        assertThat(h.step(4)).isNull();
    }

    @Test
    void a_step_contains_its_begin_but_not_its_end() {
        Step two = TimelineHistory.parse(3, HISTORY_3).step(2);

        assertThat(two.contains(lsn("0/3000000"))).isTrue();
        assertThat(two.contains(lsn("0/5000027"))).isTrue();
        assertThat(two.contains(lsn("0/5000028"))).isFalse();
        assertThat(two.contains(lsn("0/2FFFFFF"))).isFalse();
    }

    @Test
    void the_open_target_step_contains_everything_after_its_begin() {
        Step three = TimelineHistory.parse(3, HISTORY_3).step(3);

        assertThat(three.contains(lsn("FFFFFFFF/FFFFFFFF"))).isTrue();
        assertThat(three.contains(lsn("0/5000027"))).isFalse();
    }

    @ParameterizedTest(name = "segment {0} is read from timeline {1}")
    @CsvSource({
            "1, 1",
            "2, 1", // ends exactly where timeline 2 begins (0/3000000): all of it is timeline 1's
            "3, 2", // starts at the switch point 0/3000000
            "4, 2",
            "5, 3", // holds the switch point 0/5000028: PostgreSQL reads it from timeline 3's file (a copy up to the switch)
            "6, 3",
            "4096, 3"})
    void the_segment_holding_a_switch_point_belongs_to_the_new_timeline(long segment, int timeline) {
        assertThat(TimelineHistory.parse(3, HISTORY_3).timelineOfSegment(segment, MIB_16)).isEqualTo(timeline);
    }

    @Test
    void segment_numbers_follow_the_segment_size() {
        // With 64 MiB segments 0/5000028 lies in segment 1, which timeline 3 then holds; 0/3000000 lies in segment 0.
        TimelineHistory h = TimelineHistory.parse(3, HISTORY_3);
        assertThat(h.timelineOfSegment(0, 64L << 20)).isEqualTo(2);
        assertThat(h.timelineOfSegment(1, 64L << 20)).isEqualTo(3);
    }

    @Test
    void comments_blank_lines_and_crlf_line_ends_are_ignored() {
        String content = "# written by hand\r\n\r\n   \n1\t0/3000000\tno recovery target specified\r\n# between\n2 0/5000028 reason with  spaces\n\n";

        assertThat(TimelineHistory.parse(3, content).steps()).isEqualTo(TimelineHistory.parse(3, HISTORY_3).steps());
    }

    @Test
    void a_timeline_can_skip_numbers_of_abandoned_siblings() {
        TimelineHistory h = TimelineHistory.parse(5, "1\t0/3000000\tx\n3\t0/7000000\ty\n");

        assertThat(h.steps()).extracting(Step::timeline).containsExactly(1, 3, 5);
        assertThat(h.step(2)).isNull();
    }

    @Test
    void a_malformed_line_is_an_error_naming_the_file_and_its_line_number() {
        assertThatThrownBy(() -> TimelineHistory.parse(3, "1\t0/3000000\tno recovery target specified\n\nbogus\n"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("00000003.history line 3 is not 'parentTLI switchpoint reason': bogus");
    }

    @Test
    void a_bad_location_is_an_error_naming_the_line() {
        assertThatThrownBy(() -> TimelineHistory.parse(0x1A, "1\t0/XYZ\treason\n"))
                .hasMessage("0000001A.history line 1 is not 'parentTLI switchpoint reason': 1\t0/XYZ\treason");
    }

    @Test
    void a_line_without_a_switch_point_is_an_error() {
        assertThatThrownBy(() -> TimelineHistory.parse(3, "1\n")).hasMessageStartingWith("00000003.history line 1 is not");
    }

    @Test
    void a_parent_at_or_after_the_timeline_itself_is_an_error() {
        assertThatThrownBy(() -> TimelineHistory.parse(2, "1\t0/3000000\tx\n2\t0/5000000\ty\n"))
                .hasMessageStartingWith("00000002.history line 2 is not");
    }

    @Test
    void parents_out_of_order_are_an_error() {
        assertThatThrownBy(() -> TimelineHistory.parse(4, "2\t0/3000000\tx\n1\t0/5000000\ty\n"))
                .hasMessageStartingWith("00000004.history line 2 is not");
    }

    @Test
    void a_switch_point_before_the_previous_one_is_an_error() {
        assertThatThrownBy(() -> TimelineHistory.parse(3, "1\t0/5000000\tx\n2\t0/3000000\ty\n"))
                .hasMessageStartingWith("00000003.history line 2 is not");
    }

    @Test
    void the_root_history_is_one_open_step_from_the_start() {
        TimelineHistory h = TimelineHistory.root(1);

        assertThat(h.steps()).containsExactly(new Step(1, Lsn.ZERO, null));
        assertThat(h.timelineOfSegment(12345, MIB_16)).isEqualTo(1);
    }
}
