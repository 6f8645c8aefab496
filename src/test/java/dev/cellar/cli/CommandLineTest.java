package dev.cellar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.api.ExitCode;
import dev.cellar.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CommandLineTest {

    @TempDir
    Path dir;

    /** The verbs of the CLI contract (docs/cli.md). */
    static final List<String> VERBS = List.of("check", "backup", "list-backups", "show-backup", "delete", "keep", "archive-wal",
            "switch-wal", "recover", "verify", "prune", "cron", "serve", "jobs", "demo", "config", "list-wal");

    @Test
    void everyVerbOfTheContractIsRegistered() {
        CliRun run = CliRun.run(dir, "--help");
        assertThat(run.exitCode()).isZero();
        for (String verb : VERBS) {
            assertThat(run.out()).as(verb).containsPattern("(?m)^\\s+" + verb + "\\s");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"check", "backup", "list-backups", "show-backup", "delete", "keep", "archive-wal", "switch-wal",
            "recover", "verify", "prune", "cron", "serve", "jobs", "demo", "config", "list-wal"})
    void everyVerbHasHelp(String verb) {
        CliRun run = CliRun.run(dir, verb, "--help");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).startsWith("Usage: cellar " + verb);
    }

    @Test
    void serveRefusesToListenBeyondLoopbackWithoutAuthentication() throws Exception {
        Path config = Files.writeString(dir.resolve("serve.yaml"), "cellar:\n  serve:\n    listen: 0.0.0.0:7480\n");
        CliRun run = CliRun.run(dir, "--config", config.toString(), "serve");
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCode.USAGE.code());
        assertThat(run.err()).contains("cellar.serve.listen: '0.0.0.0:7480' is not a loopback address and no authentication is set");
    }

    @Test
    void usageMistakesExitWithTwo() {
        assertThat(CliRun.run(dir, "no-such-verb").exitCode()).isEqualTo(ExitCode.USAGE.code());
        assertThat(CliRun.run(dir, "check").err()).contains("Missing required parameter: 'SERVER'");
        CliRun twoTargets = CliRun.run(dir, "recover", "main", "latest", "/tmp/x", "--target-immediate", "--target-lsn", "0/1");
        assertThat(twoTargets.exitCode()).isEqualTo(2);
        assertThat(twoTargets.err()).contains("mutually exclusive");
        assertThat(CliRun.run(dir, "jobs", "list", "--since", "yesterday").err()).contains("--since: 'yesterday' is not an age");
        assertThat(CliRun.run(dir, "jobs").exitCode()).isEqualTo(2);
    }

    @Test
    void aConfigurationMistakeIsOneLineNamingTheKeyWithExitCodeTwo() throws Exception {
        Path config = Files.writeString(dir.resolve("cellar.yaml"), """
                cellar:
                  repository: /srv/repo
                  servers:
                    main:
                      conninfo: jdbc:postgresql://db1/postgres
                      retention: KEEP EVERYTHING
                """);
        CliRun run = CliRun.run(dir, "--config", config.toString(), "check", "main");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err().strip()).isEqualTo("cellar: configuration error: cellar.servers.main.retention: 'KEEP EVERYTHING' is not a "
                + "retention policy; expected \"REDUNDANCY <n>\" or \"RECOVERY WINDOW OF <n> DAYS|WEEKS|MONTHS\"");
        assertThat(run.out()).isEmpty();

        CliRun json = CliRun.run(dir, "--config", config.toString(), "--json", "config");
        assertThat(json.exitCode()).isEqualTo(2);
        assertThat(json.out()).contains("\"kind\" : \"configuration\"").contains("cellar.servers.main.retention");
    }

    @Test
    void anUnreachableCatalogIsOneLineNamingItWithExitCodeOne() throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // free once closed: nothing listens there
        }
        String url = "jdbc:postgresql://127.0.0.1:" + port + "/cellar";
        Path config = Files.writeString(dir.resolve("catalog.yaml"),
                "cellar:\n  home: " + dir.resolve("home") + "\n  catalog:\n    url: " + url + "\n");
        CliRun run = CliRun.run(dir, "--config", config.toString(), "jobs", "list");
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCode.FAILED.code());
        assertThat(run.err()).contains("cannot open the catalog " + url + ": Connection to 127.0.0.1:" + port + " refused")
                .doesNotContain("internal error");
    }

    @Test
    void anEmbeddedCatalogAnotherProcessHoldsIsOneLineWithExitCodeBusy() throws Exception {
        // A plain H2 file URL (no AUTO_SERVER): whoever opens it first holds it. Here a lock held on the file stands in
        // for that other process, as H2 tells the two apart only by the lock.
        Path home = Files.createDirectories(dir.resolve("home"));
        Path file = home.resolve("plain.mv.db");
        String url = "jdbc:h2:file:" + home.resolve("plain");
        Path config = Files.writeString(dir.resolve("catalog.yaml"), "cellar:\n  home: " + home + "\n  catalog:\n    url: " + url + "\n");
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE); java.nio.channels.FileLock lock = ch.lock()) {
            CliRun run = CliRun.run(dir, "--config", config.toString(), "jobs", "list");
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCode.BUSY.code());
            assertThat(run.err()).contains("cannot open the catalog " + url + ": Database may be already in use").doesNotContain("internal error");
        }
    }

    @Test
    void anUnknownServerIsAConfigurationError() throws Exception {
        Path config = Files.writeString(dir.resolve("cellar.yaml"), "cellar:\n  repository: /srv/repo\n  servers:\n    main:\n      conninfo: jdbc:postgresql://db1/postgres\n");
        CliRun run = CliRun.run(dir, "--config", config.toString(), "check", "mian");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("cellar.servers.mian: no such server; known servers: main");
    }

    @Test
    void configPrintsTheEffectiveSettings() throws Exception {
        Path config = Files.writeString(dir.resolve("cellar.yaml"), "cellar:\n  home: /var/lib/cellar\n  repository: /srv/repo\n  servers:\n    main:\n      conninfo: jdbc:postgresql://db1/postgres\n");
        CliRun run = CliRun.run(dir, "--config", config.toString(), "config");
        assertThat(run.exitCode()).as(run.toString()).isZero();
        assertThat(run.out()).contains("Configuration is valid.").contains("file:///srv/repo").contains("/var/lib/cellar/spool/main")
                .contains("zstd:3").contains("jdbc:h2:file:/var/lib/cellar/catalog;AUTO_SERVER=TRUE;WRITE_DELAY=0");
    }
}
