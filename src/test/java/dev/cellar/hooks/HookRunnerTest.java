package dev.cellar.hooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cellar.config.CellarSettings;
import dev.cellar.config.SettingsLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hooks run as real processes: real scripts that record what they were given. */
class HookRunnerTest {

    @TempDir
    Path dir;

    private Path script(String name, String body) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    private CellarSettings settings(String hooksYaml) throws Exception {
        Path config = Files.writeString(dir.resolve("cellar.yaml"), """
                cellar:
                  home: %s
                  repository: /srv/repo
                  servers:
                    main:
                      conninfo: jdbc:postgresql://db1/postgres
                      hooks:
                %s
                """.formatted(dir.resolve("home"), hooksYaml.indent(8).stripTrailing()));
        return new SettingsLoader(Map.of(), dir).load(config);
    }

    @Test
    void argumentsArePassedVerbatimWithoutAShell() throws Exception {
        Path out = dir.resolve("args.txt");
        Path hook = script("args.sh", "for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done > " + out);
        HookResult r = HookRunner.run("pre-backup", List.of(hook.toString(), "two words", "it's \"quoted\"", "$HOME", "*", "", "a;b|c"),
                Map.of(), Duration.ofSeconds(30));
        assertThat(r.succeeded()).as(r.describe()).isTrue();
        assertThat(Files.readAllLines(out)).containsExactly("[two words]", "[it's \"quoted\"]", "[$HOME]", "[*]", "[]", "[a;b|c]");
    }

    @Test
    void theEnvironmentDescribesTheActionAndPostHooksSeeTheStatus() throws Exception {
        Path env = dir.resolve("env.txt");
        Path hook = script("env.sh", "env | grep '^CELLAR_' | sort > " + env + ".$CELLAR_PHASE");
        CellarSettings s = settings("pre-backup: [" + hook + "]\npost-backup: [" + hook + "]");
        HookRunner runner = new HookRunner(s, "main");
        runner.pre(Hook.BACKUP, Map.of("CELLAR_BACKUP_ID", "20261127T020000Z"));
        assertThat(Files.readAllLines(Path.of(env + ".pre"))).contains("CELLAR_SERVER=main", "CELLAR_PHASE=pre", "CELLAR_HOOK=backup",
                "CELLAR_BACKUP_ID=20261127T020000Z", "CELLAR_CONFIGURATION=" + dir.resolve("cellar.yaml"), "CELLAR_REPOSITORY=file:///srv/repo")
                .noneMatch(l -> l.startsWith("CELLAR_STATUS="));
        assertThat(runner.post(Hook.BACKUP, "FAILED", "base-backup.start: PSQLException: no connection", Map.of("CELLAR_BACKUP_ID", "X")))
                .isEmpty();
        assertThat(Files.readAllLines(Path.of(env + ".post"))).contains("CELLAR_PHASE=post", "CELLAR_STATUS=FAILED",
                "CELLAR_ERROR=base-backup.start: PSQLException: no connection", "CELLAR_BACKUP_ID=X");
        // No hook configured for archive: nothing runs, nothing fails.
        runner.pre(Hook.ARCHIVE, Map.of());
        assertThat(runner.has(Hook.ARCHIVE, Hook.Phase.PRE)).isFalse();
    }

    @Test
    void aFailingPreHookAbortsNamingItsExitCodeAndStderrAndAFailingPostHookIsAWarning() throws Exception {
        Path hook = script("fail.sh", "echo 'first line' >&2\necho 'disk quota exceeded' >&2\nexit 3");
        CellarSettings s = settings("pre-delete: [" + hook + ", --why]\npost-delete: [" + hook + "]");
        HookRunner runner = new HookRunner(s, "main");
        assertThatThrownBy(() -> runner.pre(Hook.DELETE, Map.of()))
                .isInstanceOf(HookFailedException.class)
                .hasMessage("pre-delete hook [" + hook + ", --why] exited with code 3: first line | disk quota exceeded");
        Optional<String> warning = runner.post(Hook.DELETE, "COMPLETED", null, Map.of());
        assertThat(warning).contains("post-delete hook [" + hook + "] exited with code 3: first line | disk quota exceeded");
    }

    @Test
    void aHookPastItsTimeoutIsKilledWithTheProcessesItStarted() throws Exception {
        Path pid = dir.resolve("child.pid");
        Path hook = script("hang.sh", "sleep 300 &\necho $! > " + pid + "\necho started >&2\nwait");
        CellarSettings s = settings("timeout: 2 SECONDS\npre-archive: [" + hook + "]");
        long start = System.nanoTime();
        assertThatThrownBy(() -> new HookRunner(s, "main").pre(Hook.ARCHIVE, Map.of()))
                .isInstanceOf(HookFailedException.class)
                .hasMessageContaining("pre-archive hook [" + hook + "] timed out after 2s and was killed (2 processes): started");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
        long child = Long.parseLong(Files.readString(pid).strip());
        assertThat(ProcessHandle.of(child).map(ProcessHandle::isAlive).orElse(false)).as("the hook's child " + child).isFalse();
    }

    @Test
    void aProgramThatCannotRunIsAFailure() {
        HookResult r = HookRunner.run("pre-recovery", List.of(dir.resolve("missing").toString()), Map.of(), Duration.ofSeconds(5));
        assertThat(r.succeeded()).isFalse();
        assertThat(r.describe()).startsWith("pre-recovery hook [" + dir.resolve("missing") + "] exited with code 127: cannot run it:");
    }
}
