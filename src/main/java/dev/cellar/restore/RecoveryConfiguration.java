package dev.cellar.restore;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The recovery settings of a restored directory (PostgreSQL 12 and later): {@code recovery.signal}
 * and settings appended to {@code postgresql.auto.conf} (the last setting of a name wins, so they
 * override whatever the restored files hold): {@code restore_command} copying from the staged WAL,
 * {@code recovery_end_command} removing it, the target, its timeline, action and inclusiveness,
 * and {@code archive_mode = off}: a restored copy must never archive into the production archive.
 */
public final class RecoveryConfiguration {

    /** {@code recovery_target_action}: pause (PostgreSQL's default), promote, shutdown. */
    public enum Action { PAUSE, PROMOTE, SHUTDOWN }

    private static final String MARKER = "# Added by Cellar (cellar recover ";

    private RecoveryConfiguration() {
    }

    /** The lines appended to postgresql.auto.conf. */
    public static List<String> settings(Path dest, RestorePlan plan, String backupId, String server, Action action, boolean exclusive) {
        checkQuotable(dest);
        Path wal = dest.toAbsolutePath().normalize().resolve(WalStaging.DIRECTORY);
        List<String> lines = new ArrayList<>();
        lines.add("");
        lines.add(MARKER + server + " " + backupId + ") at " + Instant.now() + ".");
        lines.add("# A restored copy must not archive into the production archive: archive_mode is off.");
        lines.add("archive_mode = 'off'");
        lines.add("restore_command = 'cp \"" + wal + "/%f\" \"%p\"'");
        lines.add("recovery_end_command = 'rm -rf \"" + wal + "\"'");
        RecoveryTarget target = plan.target();
        if (target != null) {
            lines.addAll(target.settings());
        }
        lines.add("recovery_target_timeline = '" + plan.timelineSetting() + "'");
        if (target != null && action != null) {
            lines.add("recovery_target_action = '" + action.name().toLowerCase() + "'");
        }
        if (target != null && !(target instanceof RecoveryTarget.Immediate)) {
            lines.add("recovery_target_inclusive = '" + (exclusive ? "false" : "true") + "'");
        }
        return lines;
    }

    /** Writes recovery.signal and appends the settings; removes standby.signal (a restore is not a standby). */
    public static void write(Path dest, RestorePlan plan, String backupId, String server, Action action, boolean exclusive) throws IOException {
        List<String> lines = settings(dest, plan, backupId, server, action, exclusive);
        Path auto = dest.resolve("postgresql.auto.conf");
        // Idempotent: a rerun replaces what an earlier run of this step appended.
        List<String> kept = new ArrayList<>();
        if (Files.exists(auto)) {
            for (String l : Files.readAllLines(auto, StandardCharsets.UTF_8)) {
                if (l.startsWith(MARKER)) {
                    if (!kept.isEmpty() && kept.get(kept.size() - 1).isEmpty()) {
                        kept.remove(kept.size() - 1);
                    }
                    break;
                }
                kept.add(l);
            }
        }
        kept.addAll(lines);
        Path tmp = dest.resolve("postgresql.auto.conf" + DataDirectoryRestore.TEMP_SUFFIX);
        Files.write(tmp, kept, StandardCharsets.UTF_8);
        Files.move(tmp, auto, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Files.setPosixFilePermissions(auto, DataDirectoryRestore.permissions(0600));
        Files.deleteIfExists(dest.resolve("standby.signal"));
        Path signal = dest.resolve("recovery.signal");
        Files.write(signal, new byte[0]);
        Files.setPosixFilePermissions(signal, DataDirectoryRestore.permissions(0600));
    }

    /** The staging path goes into shell commands inside a PostgreSQL string: refuse what would need quoting. */
    public static void checkQuotable(Path dest) {
        String s = dest.toAbsolutePath().normalize().toString();
        for (char c : s.toCharArray()) {
            if (c == '\'' || c == '"' || c == '\\' || c == '$' || c == '`' || c == '%' || c < ' ') {
                throw new IllegalArgumentException("destination " + dest + " contains '" + (c < ' ' ? "control character" : c)
                        + "', which cannot be used in restore_command; choose another path");
            }
        }
    }
}
