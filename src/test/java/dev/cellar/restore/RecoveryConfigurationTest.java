package dev.cellar.restore;

import dev.cellar.wal.TimelineHistory;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cellar.restore.RecoveryConfiguration.Action;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RecoveryConfigurationTest {

    private static final String BACKUP = "20261127T030000";
    private static final String MARKER = "# Added by Cellar (cellar recover main " + BACKUP + ") at ";

    @TempDir
    Path dest;

    private static RestorePlan plan(RecoveryTarget target, String timelineSetting) {
        return new RestorePlan(BACKUP, target, 1, timelineSetting, TimelineHistory.root(1), 2, 4, 16L << 20, List.of(), List.of());
    }

    private List<String> settings(RecoveryTarget target, Action action, boolean exclusive) {
        return RecoveryConfiguration.settings(dest, plan(target, "current"), BACKUP, "main", action, exclusive);
    }

    private String wal() {
        return dest.toAbsolutePath().normalize().resolve("cellar_wal").toString();
    }

    private static List<String> withoutComments(List<String> lines) {
        return lines.stream().filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }

    @Test
    void a_time_target_with_promote_and_exclusive_writes_every_setting() {
        List<String> lines = settings(new RecoveryTarget.Time(Instant.parse("2026-11-27T03:00:00Z")), Action.PROMOTE, true);

        assertThat(lines.get(0)).isEmpty();
        assertThat(lines.get(1)).startsWith(MARKER);
        assertThat(withoutComments(lines)).containsExactly(
                "archive_mode = 'off'",
                "restore_command = 'cp \"" + wal() + "/%f\" \"%p\"'",
                "recovery_end_command = 'rm -rf \"" + wal() + "\"'",
                "recovery_target_time = '2026-11-27 03:00:00.000000+00'",
                "recovery_target_timeline = 'current'",
                "recovery_target_action = 'promote'",
                "recovery_target_inclusive = 'false'");
    }

    @Test
    void an_inclusive_target_says_so() {
        assertThat(settings(new RecoveryTarget.Xid(741), Action.PAUSE, false))
                .contains("recovery_target_xid = '741'", "recovery_target_action = 'pause'", "recovery_target_inclusive = 'true'");
    }

    @Test
    void immediate_has_no_inclusive_setting() {
        List<String> lines = settings(new RecoveryTarget.Immediate(), Action.SHUTDOWN, true);

        assertThat(lines).contains("recovery_target = 'immediate'", "recovery_target_action = 'shutdown'");
        assertThat(lines).noneMatch(l -> l.startsWith("recovery_target_inclusive"));
    }

    @Test
    void no_target_writes_neither_action_nor_inclusive_but_still_turns_archiving_off() {
        List<String> lines = RecoveryConfiguration.settings(dest, plan(null, "3"), BACKUP, "main", Action.PROMOTE, true);

        assertThat(withoutComments(lines)).containsExactly(
                "archive_mode = 'off'",
                "restore_command = 'cp \"" + wal() + "/%f\" \"%p\"'",
                "recovery_end_command = 'rm -rf \"" + wal() + "\"'",
                "recovery_target_timeline = '3'");
    }

    @Test
    void the_staging_path_is_absolute_and_normalized_even_for_a_relative_destination() {
        Path relative = Path.of("restores/../restores/db1");

        List<String> lines = RecoveryConfiguration.settings(relative, plan(null, "current"), BACKUP, "main", null, false);

        String wal = Path.of("").toAbsolutePath().resolve("restores/db1/cellar_wal").toString();
        assertThat(lines).contains("restore_command = 'cp \"" + wal + "/%f\" \"%p\"'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"it's", "say \"x\"", "back\\slash", "$HOME", "`id`", "100%", "new\nline", "tab\there", "bell\u0007"})
    void a_destination_that_would_need_quoting_in_restore_command_is_refused(String name) {
        Path bad = dest.resolve(name);

        assertThatThrownBy(() -> RecoveryConfiguration.checkQuotable(bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("destination " + bad + " contains '")
                .hasMessageEndingWith("', which cannot be used in restore_command; choose another path");
        assertThatThrownBy(() -> RecoveryConfiguration.settings(bad, plan(null, "current"), BACKUP, "main", null, false))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void the_refusal_names_the_character_or_says_control_character() {
        assertThatThrownBy(() -> RecoveryConfiguration.checkQuotable(dest.resolve("a$b"))).hasMessageContaining("contains '$'");
        assertThatThrownBy(() -> RecoveryConfiguration.checkQuotable(dest.resolve("a\nb"))).hasMessageContaining("contains 'control character'");
    }

    @Test
    void spaces_dashes_and_non_ascii_letters_are_quotable() {
        RecoveryConfiguration.checkQuotable(dest.resolve("restore 2026-11-27 größe_1.d"));
    }

    @Test
    void write_appends_the_block_once_however_often_it_runs_and_keeps_earlier_lines() throws Exception {
        Path auto = dest.resolve("postgresql.auto.conf");
        List<String> original = List.of("# Do not edit this file manually!", "# It will be overwritten by the ALTER SYSTEM command.",
                "work_mem = '64MB'");
        Files.write(auto, original, StandardCharsets.UTF_8);
        RestorePlan plan = plan(new RecoveryTarget.Time(Instant.parse("2026-11-27T03:00:00Z")), "current");

        RecoveryConfiguration.write(dest, plan, BACKUP, "main", Action.PROMOTE, false);
        List<String> first = Files.readAllLines(auto, StandardCharsets.UTF_8);
        RecoveryConfiguration.write(dest, plan, BACKUP, "main", Action.PROMOTE, false);
        List<String> second = Files.readAllLines(auto, StandardCharsets.UTF_8);

        assertThat(second.subList(0, 3)).isEqualTo(original);
        assertThat(second).filteredOn(l -> l.startsWith("# Added by Cellar")).hasSize(1);
        assertThat(second).filteredOn(l -> l.startsWith("archive_mode")).hasSize(1);
        assertThat(second).hasSameSizeAs(first);
        assertThat(withoutComments(second)).isEqualTo(withoutComments(first));
        assertThat(withoutComments(second)).startsWith("work_mem = '64MB'", "archive_mode = 'off'");
        assertThat(second.subList(3, second.size()).stream().filter(l -> !l.startsWith("# Added by Cellar")).toList())
                .isEqualTo(settings(plan.target(), Action.PROMOTE, false).stream().filter(l -> !l.startsWith("# Added by Cellar")).toList());
    }

    @Test
    void a_rerun_with_another_target_replaces_the_earlier_block() throws Exception {
        RecoveryConfiguration.write(dest, plan(new RecoveryTarget.Time(Instant.parse("2026-11-27T03:00:00Z")), "current"),
                BACKUP, "main", Action.PROMOTE, true);
        RecoveryConfiguration.write(dest, plan(new RecoveryTarget.Immediate(), "current"), BACKUP, "main", Action.PAUSE, false);

        List<String> lines = Files.readAllLines(dest.resolve("postgresql.auto.conf"), StandardCharsets.UTF_8);
        assertThat(lines).contains("recovery_target = 'immediate'", "recovery_target_action = 'pause'")
                .noneMatch(l -> l.startsWith("recovery_target_time =") || l.startsWith("recovery_target_inclusive"));
    }

    @Test
    void write_creates_an_empty_recovery_signal_and_removes_standby_signal() throws Exception {
        Files.writeString(dest.resolve("standby.signal"), "");

        RecoveryConfiguration.write(dest, plan(null, "current"), BACKUP, "main", null, false);

        Path signal = dest.resolve("recovery.signal");
        assertThat(signal).isRegularFile().isEmptyFile();
        assertThat(dest.resolve("standby.signal")).doesNotExist();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(signal))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dest.resolve("postgresql.auto.conf")))).isEqualTo("rw-------");
    }

    @Test
    void write_creates_postgresql_auto_conf_when_the_backup_had_none() throws Exception {
        RecoveryConfiguration.write(dest, plan(null, "current"), BACKUP, "main", null, false);

        assertThat(withoutComments(Files.readAllLines(dest.resolve("postgresql.auto.conf"), StandardCharsets.UTF_8)))
                .first().isEqualTo("archive_mode = 'off'");
        try (var listing = Files.list(dest)) {
            assertThat(listing.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("postgresql.auto.conf", "recovery.signal");
        }
    }
}
