package dev.cellar.restore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.postgres.Lsn;
import dev.cellar.wal.TimelineHistory;
import dev.cellar.wal.WalFileName;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class RestorePlanTest {

    private static final long MIB_16 = 16L << 20;
    private static final TimelineHistory HISTORY_3 =
            TimelineHistory.parse(3, "1\t0/3000000\tno recovery target specified\n\n2\t0/5000028\tat restore point \"x\"\n");

    private static RestorePlan plan(RecoveryTarget target, List<String> notes) {
        return new RestorePlan("20261127T030000", target, 3, "latest", HISTORY_3, 2, 6, MIB_16,
                List.of("00000002.history", "00000003.history"), notes);
    }

    @Test
    void segments_follow_the_timeline_path_switching_at_the_segment_that_holds_the_switch_point() {
        assertThat(plan(null, List.of()).segments()).extracting(WalFileName::name).containsExactly(
                "000000010000000000000002",
                "000000020000000000000003",
                "000000020000000000000004",
                "000000030000000000000005",
                "000000030000000000000006");
    }

    @Test
    void segment_names_carry_the_log_id_past_4_gib() {
        RestorePlan p = new RestorePlan("b", null, 1, "current", TimelineHistory.root(1), 0xFF, 0x100, MIB_16, List.of(), List.of());

        assertThat(p.segments()).extracting(WalFileName::name).containsExactly("0000000100000000000000FF", "000000010000000100000000");
    }

    static Stream<RecoveryTarget> everyTarget() {
        return Stream.of(null, new RecoveryTarget.Immediate(), new RecoveryTarget.Time(Instant.parse("2026-11-27T02:00:00.123456Z")),
                new RecoveryTarget.AtLsn(Lsn.parse("0/6000060")), new RecoveryTarget.Xid(741), new RecoveryTarget.Name("before-upgrade"));
    }

    @ParameterizedTest
    @MethodSource("everyTarget")
    void a_plan_decodes_from_its_encoding_to_an_equal_plan(RecoveryTarget target) {
        RestorePlan p = plan(target, List.of("WAL segment 000000030000000000000007 is missing (a gap)", "second note"));

        RestorePlan back = RestorePlan.decode(p.encode());

        assertThat(back).isEqualTo(p);
        assertThat(back.segments()).isEqualTo(p.segments());
    }

    @Test
    void a_plan_without_notes_or_history_files_decodes_to_empty_lists() {
        RestorePlan p = new RestorePlan("b", new RecoveryTarget.Immediate(), 1, "current", TimelineHistory.root(1), 3, 3, MIB_16,
                List.of(), List.of());

        assertThat(RestorePlan.decode(p.encode())).isEqualTo(p);
    }

    @Test
    void a_restore_point_name_holding_the_field_separator_and_percent_signs_survives_the_encoding() {
        // The encoding separates fields with '|': an unescaped name "release|2026" broke decoding of every later field.
        RestorePlan p = plan(new RecoveryTarget.Name("release|2026 100% %7C|%25"), List.of("a|b", "50% done"));

        RestorePlan back = RestorePlan.decode(p.encode());

        assertThat(back.target()).isEqualTo(new RecoveryTarget.Name("release|2026 100% %7C|%25"));
        assertThat(back.notes()).containsExactly("a|b", "50% done");
        assertThat(back).isEqualTo(p);
    }
}
