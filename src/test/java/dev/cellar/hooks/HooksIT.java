package dev.cellar.hooks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cellar.testing.CliRun;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.PostgresClusterExtension;
import dev.cellar.testing.TestConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hooks around real actions on one real cluster, through the command line: backup, archive (wal-sweep), recovery,
 * delete and the deletions of a retention prune. A failing pre-hook aborts with nothing changed; post-hooks see the
 * outcome; a failing post-hook is a warning (exit 3), never a failure.
 */
@ExtendWith(PostgresClusterExtension.class)
class HooksIT {

    @TempDir
    Path dir;

    private Path config;
    private String baseConfig;
    private Path record;
    private Path fail;

    private Path script(String name, String body) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    /** The server's configuration with these hooks (and other server keys), e.g. "pre-backup: [...]". */
    private void hooks(String... lines) throws Exception {
        StringBuilder b = new StringBuilder(baseConfig);
        List<String> hookLines = new ArrayList<>();
        for (String l : lines) {
            if (l.startsWith("retention:")) {
                b.append("      ").append(l).append('\n');
            } else {
                hookLines.add(l);
            }
        }
        if (!hookLines.isEmpty()) {
            b.append("      hooks:\n");
            hookLines.forEach(l -> b.append("        ").append(l).append('\n'));
        }
        Files.writeString(config, b.toString());
    }

    private CliRun cellar(String... args) {
        List<String> all = new ArrayList<>(List.of("--config", config.toString()));
        all.addAll(List.of(args));
        return CliRun.run(dir, all.toArray(String[]::new));
    }

    /** What the recording hook saw when called with this tag: its CELLAR_* variables. */
    private Map<String, String> seen(String tag) throws Exception {
        Map<String, String> env = new java.util.TreeMap<>();
        for (String line : Files.readAllLines(dir.resolve("env." + tag))) {
            int eq = line.indexOf('=');
            env.put(line.substring(0, eq), line.substring(eq + 1));
        }
        Files.delete(dir.resolve("env." + tag));
        return env;
    }

    private List<String> backups() throws Exception {
        CliRun list = cellar("--json", "list-backups", "main");
        assertThat(list.exitCode()).as(list.toString()).isZero();
        List<String> ids = new ArrayList<>();
        new ObjectMapper().readTree(list.out()).forEach(n -> ids.add(n.get("id").asText()));
        return ids;
    }

    @Test
    void preHooksAbortWithNothingChangedAndPostHooksSeeTheOutcome(PostgresCluster pg) throws Exception {
        Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
        config = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
        baseConfig = Files.readString(config);
        record = script("record.sh", "tag=$1\nshift\nenv | grep '^CELLAR_' | sort > " + dir + "/env.$tag\nprintf '[%s]\\n' \"$@\" > " + dir + "/args.$tag");
        fail = script("fail.sh", "echo \"hook says no to $CELLAR_PHASE-$CELLAR_HOOK\" >&2\nexit 1");
        pg.execute("CREATE TABLE t AS SELECT g FROM generate_series(1, 1000) g");

        // A failing pre-backup: the job fails before any step, naming the hook; no backup, no session, no post-hook.
        hooks("pre-backup: [" + fail + "]", "post-backup: [" + record + ", post-backup]");
        CliRun refused = cellar("backup", "main");
        assertThat(refused.exitCode()).as(refused.toString()).isEqualTo(1);
        assertThat(refused.out()).contains("status:   FAILED")
                .contains("HookFailedException: pre-backup hook [" + fail + "] exited with code 1: hook says no to pre-backup");
        assertThat(refused.out()).doesNotContain("base-backup.preflight");
        assertThat(backups()).isEmpty();
        try (Stream<Path> s = Files.exists(dir.resolve("repo/main/backups")) ? Files.list(dir.resolve("repo/main/backups")) : Stream.empty()) {
            assertThat(s.toList()).as("nothing under backups/").isEmpty();
        }
        assertThat(dir.resolve("env.post-backup")).as("no post-hook after an aborted backup").doesNotExist();

        // The next `cellar backup` restarts that backup; both hooks run; the arguments arrive verbatim.
        hooks("pre-backup: [" + record + ", pre-backup, \"two words\", \"it's \\\"quoted\\\" $HOME\"]", "post-backup: [" + record + ", post-backup]");
        CliRun full = cellar("backup", "main", "--wait");
        assertThat(full.exitCode()).as(full.toString()).isZero();
        String fullId = backups().get(0);
        Map<String, String> pre = seen("pre-backup");
        assertThat(pre).containsEntry("CELLAR_PHASE", "pre").containsEntry("CELLAR_HOOK", "backup").containsEntry("CELLAR_SERVER", "main")
                .containsEntry("CELLAR_BACKUP_ID", fullId).containsEntry("CELLAR_RESTART", "true").containsEntry("CELLAR_JOB", "base-backup")
                .containsEntry("CELLAR_CONFIGURATION", config.toString()).containsEntry("CELLAR_REPOSITORY", dir.resolve("repo").toUri().toString())
                .doesNotContainKey("CELLAR_STATUS");
        Map<String, String> post = seen("post-backup");
        assertThat(post).containsEntry("CELLAR_PHASE", "post").containsEntry("CELLAR_STATUS", "COMPLETED").containsEntry("CELLAR_ERROR", "")
                .containsEntry("CELLAR_BACKUP_ID", fullId).containsEntry("CELLAR_BACKUP_TYPE", "full").containsEntry("CELLAR_PARENT_ID", "");
        assertThat(post.get("CELLAR_JOB_EXECUTION_ID")).isEqualTo(pre.get("CELLAR_JOB_EXECUTION_ID"));
        assertThat(Files.readAllLines(dir.resolve("args.pre-backup"))).containsExactly("[two words]", "[it's \"quoted\" $HOME]");

        // A failing post-backup is a warning: the incremental is committed, the execution COMPLETED, exit 3.
        pg.execute("INSERT INTO t SELECT g FROM generate_series(1, 1000) g");
        hooks("post-backup: [" + fail + "]");
        CliRun warned = cellar("backup", "main", "--wait");
        assertThat(warned.exitCode()).as(warned.toString()).isEqualTo(3);
        assertThat(warned.out()).contains("status:   COMPLETED (exit COMPLETED_WITH_WARNINGS)")
                .contains("cellar.hook-warning = post-backup hook [" + fail + "] exited with code 1: hook says no to post-backup");
        assertThat(backups()).hasSize(2);
        String incrementalId = backups().get(1);

        // A failing pre-delete keeps the backup (exit 6, audited as refused); post-delete sees the deletion.
        hooks("pre-delete: [" + fail + "]", "post-delete: [" + record + ", post-delete]");
        CliRun kept = cellar("delete", "main", incrementalId);
        assertThat(kept.exitCode()).as(kept.toString()).isEqualTo(6);
        assertThat(kept.err()).contains("backup " + incrementalId + " was not deleted: pre-delete hook [" + fail + "] exited with code 1: "
                + "hook says no to pre-delete");
        assertThat(backups()).containsExactly(fullId, incrementalId);
        assertThat(dir.resolve("env.post-delete")).doesNotExist();
        JsonNode audit = new ObjectMapper().readTree(cellar("--json", "jobs", "audit", "--action", "delete").out());
        assertThat(audit.get(0).get("outcome").asText()).isEqualTo("refused");
        assertThat(audit.get(0).get("message").asText()).contains("pre-delete hook");
        hooks("pre-delete: [" + record + ", pre-delete]", "post-delete: [" + record + ", post-delete]");
        CliRun deleted = cellar("delete", "main", incrementalId);
        assertThat(deleted.exitCode()).as(deleted.toString()).isZero();
        assertThat(seen("pre-delete")).containsEntry("CELLAR_BACKUP_ID", incrementalId).containsEntry("CELLAR_DELETED_BY", "delete");
        assertThat(seen("post-delete")).containsEntry("CELLAR_STATUS", "COMPLETED").containsEntry("CELLAR_BACKUP_ID", incrementalId);
        assertThat(backups()).containsExactly(fullId);

        // Archive: a failing pre-archive leaves the spool alone; then both hooks around a sweep that archives.
        pg.execute("INSERT INTO t SELECT g FROM generate_series(1, 1000) g", "SELECT pg_switch_wal()");
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> spooled(pg) > 0);
        long waiting = spooled(pg);
        hooks("pre-archive: [" + fail + "]");
        CliRun noSweep = cellar("archive-wal", "main");
        assertThat(noSweep.exitCode()).as(noSweep.toString()).isEqualTo(1);
        assertThat(noSweep.out()).contains("pre-archive hook [" + fail + "] exited with code 1");
        assertThat(spooled(pg)).isEqualTo(waiting);
        hooks("pre-archive: [" + record + ", pre-archive]", "post-archive: [" + record + ", post-archive]");
        CliRun sweep = cellar("archive-wal", "main");
        assertThat(sweep.exitCode()).as(sweep.toString()).isZero();
        assertThat(seen("pre-archive")).containsEntry("CELLAR_HOOK", "archive").containsEntry("CELLAR_RESTART", "true");
        Map<String, String> archived = seen("post-archive");
        assertThat(archived).containsEntry("CELLAR_STATUS", "COMPLETED");
        assertThat(Long.parseLong(archived.get("CELLAR_WAL_ARCHIVED"))).isGreaterThanOrEqualTo(waiting);

        // Recovery: a failing pre-recovery writes nothing into DEST; then both hooks around a restore.
        Path dest = dir.resolve("restored");
        hooks("pre-recovery: [" + fail + "]");
        CliRun noRestore = cellar("recover", "main", fullId, dest.toString(), "--target-immediate");
        assertThat(noRestore.exitCode()).as(noRestore.toString()).isEqualTo(1);
        assertThat(noRestore.out()).contains("pre-recovery hook [" + fail + "] exited with code 1");
        assertThat(Files.exists(dest) ? Files.list(dest).count() : 0).as("nothing restored").isZero();
        hooks("pre-recovery: [" + record + ", pre-recovery]", "post-recovery: [" + record + ", post-recovery]");
        CliRun restored = cellar("recover", "main", fullId, dest.toString(), "--target-immediate");
        assertThat(restored.exitCode()).as(restored.toString()).isZero();
        assertThat(seen("pre-recovery")).containsEntry("CELLAR_DESTINATION", dest.toString()).containsEntry("CELLAR_BACKUP_ID", fullId)
                .containsEntry("CELLAR_RECOVERY_TARGET", "immediate").doesNotContainKey("CELLAR_STATUS");
        assertThat(seen("post-recovery")).containsEntry("CELLAR_STATUS", "COMPLETED").containsEntry("CELLAR_DESTINATION", dest.toString())
                .containsEntry("CELLAR_BACKUP_ID", fullId);
        assertThat(dest.resolve("recovery.signal")).exists();

        // Retention: a failing pre-delete stops the prune with the obsolete backup whole; the next prune deletes it between the hooks.
        hooks("retention: REDUNDANCY 1");
        assertThat(cellar("backup", "main", "--full", "--wait").exitCode()).isZero();
        assertThat(cellar("switch-wal", "main", "--archive").exitCode()).isZero();
        hooks("retention: REDUNDANCY 1", "pre-delete: [" + fail + "]");
        CliRun vetoed = cellar("prune", "main");
        assertThat(vetoed.exitCode()).as(vetoed.toString()).isEqualTo(1);
        assertThat(vetoed.out()).contains("pre-delete hook [" + fail + "] exited with code 1");
        assertThat(backups()).hasSize(2).contains(fullId);
        hooks("retention: REDUNDANCY 1", "pre-delete: [" + record + ", pre-delete]", "post-delete: [" + record + ", post-delete]");
        CliRun pruned = cellar("prune", "main");
        assertThat(pruned.exitCode()).as(pruned.toString()).isZero();
        assertThat(seen("pre-delete")).containsEntry("CELLAR_BACKUP_ID", fullId).containsEntry("CELLAR_DELETED_BY", "retention-prune");
        assertThat(seen("post-delete")).containsEntry("CELLAR_STATUS", "COMPLETED").containsEntry("CELLAR_JOB", "retention-prune");
        assertThat(backups()).hasSize(1).doesNotContain(fullId);
    }

    private static long spooled(PostgresCluster pg) throws Exception {
        try (Stream<Path> s = Files.list(pg.spool())) {
            return s.filter(p -> p.getFileName().toString().matches("[0-9A-F]{24}")).count();
        }
    }
}
