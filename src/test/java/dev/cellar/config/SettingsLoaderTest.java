package dev.cellar.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cellar.retention.RetentionPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class SettingsLoaderTest {

    private static final Path HOME = Path.of("/home/dba");

    private static final String VALID = """
            cellar:
              home: /var/lib/cellar
              repository: file:///srv/cellar/repo
              servers:
                main:
                  conninfo: "jdbc:postgresql://db1:5432/postgres?user=cellar"
                  pgdata: /var/lib/postgresql/15/main
                  retention: "RECOVERY WINDOW OF 7 DAYS"
                  minimum-redundancy: 2
                  last-backup-maximum-age: 1 DAY
                  compression: zstd:6
                  parallel: 4
                  schedules:
                    base-backup: "0 0 2 * * ?"
                    wal-sweep: "0 * * * * ?"
            """;

    private static CellarSettings parse(String yaml) {
        return new SettingsLoader(Map.of(), HOME).parseYaml(yaml);
    }

    private static ConfigException mistake(String yaml) {
        try {
            parse(yaml);
        } catch (ConfigException e) {
            assertThat(e.getMessage()).doesNotContain("\n");
            return e;
        }
        throw new AssertionError("expected a configuration error for:\n" + yaml);
    }

    @Test
    void aRepositoryGivenAsAPathReadsTheSameWhetherOrNotItsDirectoryExists(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        String yaml = "cellar:\n  repository: " + dir.resolve("repo") + "\n";
        String before = new SettingsLoader(Map.of(), dir).parseYaml(yaml).repository();
        java.nio.file.Files.createDirectories(dir.resolve("repo"));
        assertThat(new SettingsLoader(Map.of(), dir).parseYaml(yaml).repository()).isEqualTo(before).isEqualTo("file://" + dir.resolve("repo"));
    }

    @Test
    void aValidFileIsReadWithItsDefaults() {
        CellarSettings s = parse(VALID);
        assertThat(s.home()).isEqualTo(Path.of("/var/lib/cellar"));
        assertThat(s.catalog().url()).isEqualTo("jdbc:h2:file:/var/lib/cellar/catalog;AUTO_SERVER=TRUE;WRITE_DELAY=0");
        assertThat(s.repository()).isEqualTo("file:///srv/cellar/repo");
        ServerSettings main = s.server("main");
        assertThat(main.walSpool()).isEqualTo(Path.of("/var/lib/cellar/spool/main"));
        assertThat(main.retention()).isEqualTo(new RetentionPolicy.RecoveryWindow(7, RetentionPolicy.Unit.DAYS));
        assertThat(main.minimumRedundancy()).isEqualTo(2);
        assertThat(main.lastBackupMaximumAge().duration()).isEqualTo(Duration.ofDays(1));
        assertThat(main.compression()).isEqualTo(new Compression(Compression.Algorithm.ZSTD, 6));
        assertThat(main.parallel()).isEqualTo(4);
        assertThat(main.schedules()).containsEntry("base-backup", "0 0 2 * * ?").hasSize(2);
        assertThat(main.pgBinPath()).isEmpty();
        assertThat(main.failOnPageChecksum()).isFalse();
        assertThat(main.bwlimit()).isZero();
        ServerSettings limited = parse(VALID.replace("parallel: 4", "bwlimit: 50M\n      page-checksum-failure: fail")).server("main");
        assertThat(limited.bwlimit()).isEqualTo(50L << 20);
        assertThat(limited.failOnPageChecksum()).isTrue();
        assertThat(SettingsLoader.bandwidth("512k")).isEqualTo(512L << 10);
        assertThat(SettingsLoader.bandwidth("1G")).isEqualTo(1L << 30);
        assertThat(SettingsLoader.bandwidth("65536")).isEqualTo(64L << 10);
        assertThatThrownBy(() -> SettingsLoader.bandwidth("1000")).hasMessage("'1000' is below the smallest bandwidth limit, 64K");
        assertThatThrownBy(() -> SettingsLoader.bandwidth("50")).hasMessage("'50' is below the smallest bandwidth limit, 64K");
    }

    @Test
    void anEmptyConfigurationMeansDefaultsUnderTheUsersHome() {
        CellarSettings s = parse("");
        assertThat(s.home()).isEqualTo(HOME.resolve(".cellar"));
        assertThat(s.servers()).isEmpty();
        assertThatThrownBy(() -> s.server("main")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("cellar.servers.main: no such server; no servers are configured");
    }

    @Test
    void anUnknownKeyIsNamedWithTheKnownOnes() {
        ConfigException e = mistake(VALID.replace("retention:", "retension:"));
        assertThat(e.key()).isEqualTo("cellar.servers.main.retension");
        assertThat(e.getMessage()).contains("unknown key; expected one of").contains("retention");
    }

    @Test
    void anUnknownTopLevelKeyIsAnError() {
        assertThat(mistake(VALID + "spring:\n  x: 1\n").getMessage()).isEqualTo("spring: unknown key; all settings live under 'cellar:'");
        assertThat(mistake(VALID.replace("  home:", "  hom:")).key()).isEqualTo("cellar.hom");
    }

    @Test
    void aBadCronExpressionIsNamedWithTheExpectedForm() {
        ConfigException e = mistake(VALID.replace("\"0 0 2 * * ?\"", "\"0 0 25 * * ?\""));
        assertThat(e.key()).isEqualTo("cellar.servers.main.schedules.base-backup");
        assertThat(e.getMessage()).contains("'0 0 25 * * ?' is not a Quartz cron expression").contains("e.g. \"0 0 2 * * ?\"");
        assertThat(mistake(VALID.replace("base-backup: \"0 0 2 * * ?\"", "nightly: \"0 0 2 * * ?\"")).key())
                .isEqualTo("cellar.servers.main.schedules.nightly");
    }

    @Test
    void aBadRetentionStringIsNamedWithTheExpectedForm() {
        ConfigException e = mistake(VALID.replace("RECOVERY WINDOW OF 7 DAYS", "KEEP 7 DAYS"));
        assertThat(e.getMessage()).isEqualTo("cellar.servers.main.retention: 'KEEP 7 DAYS' is not a retention policy; expected "
                + RetentionPolicy.EXPECTED_FORM);
    }

    @Test
    void aMalformedJdbcUrlIsNamed() {
        assertThat(mistake(VALID.replace("jdbc:postgresql://db1:5432/postgres?user=cellar", "postgres://db1/postgres")).getMessage())
                .startsWith("cellar.servers.main.conninfo: 'postgres://db1/postgres' is not a PostgreSQL JDBC URL");
        assertThat(mistake(VALID.replace("jdbc:postgresql://db1:5432/postgres?user=cellar", "jdbc:postgresql://db 1:x/p")).getMessage())
                .contains("is a malformed JDBC URL");
        assertThat(mistake("cellar:\n  catalog:\n    url: jdbc:mysql://x/y\n").key()).isEqualTo("cellar.catalog.url");
    }

    @Test
    void aMissingRequiredKeyIsNamed() {
        assertThat(mistake(VALID.replace("      conninfo: \"jdbc:postgresql://db1:5432/postgres?user=cellar\"\n", "")).getMessage())
                .startsWith("cellar.servers.main.conninfo: missing; expected a pgjdbc URL");
        assertThat(mistake(VALID.replace("  repository: file:///srv/cellar/repo\n", "")).key()).isEqualTo("cellar.repository");
    }

    @Test
    void aPasswordInAUrlIsRefusedWithoutRepeatingIt() {
        ConfigException e = mistake(VALID.replace("user=cellar", "user=cellar&password=s3cret"));
        assertThat(e.getMessage()).contains("must not contain a password").doesNotContain("s3cret");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "parallel: 4|parallel: 0|cellar.servers.main.parallel: '0' is not valid; expected a whole number from 1 to 64",
            "compression: zstd:6|compression: gzip|cellar.servers.main.compression: 'gzip' is not a compression",
            "last-backup-maximum-age: 1 DAY|last-backup-maximum-age: yesterday|cellar.servers.main.last-backup-maximum-age: 'yesterday' is not an age",
            "pgdata: /var/lib/postgresql/15/main|pgdata: relative/path|cellar.servers.main.pgdata: 'relative/path' is not an absolute path",
            "minimum-redundancy: 2|minimum-redundancy: [1, 2]|cellar.servers.main.minimum-redundancy: expected a single value, found a list",
            "    main:|    Main Server:|cellar.servers.Main Server: invalid server name",
            "parallel: 4|page-checksum-failure: ignore|cellar.servers.main.page-checksum-failure: 'ignore' is not valid; expected warn or fail",
            "parallel: 4|bwlimit: fast|cellar.servers.main.bwlimit: 'fast' is not a bandwidth",
    })
    void otherMistakesAreOneLineNamingTheKey(String from, String to, String message) {
        assertThat(mistake(VALID.replace(from, to)).getMessage()).startsWith(message);
    }

    @Test
    void invalidYamlSaysWhere() {
        assertThat(mistake("cellar:\n  home: [unclosed\n").getMessage()).contains("is not valid YAML at line");
        assertThat(mistake("cellar:\n  home: /a\n  home: /b\n").getMessage()).contains("is not valid YAML");
    }

    @Test
    void environmentVariablesOverrideTheFile() {
        Map<String, String> env = Map.of(
                "CELLAR_HOME", "/opt/cellar",
                "CELLAR_REPOSITORY", "/mnt/backup/repo",
                "CELLAR_SERVERS_MAIN_PARALLEL", "8",
                "CELLAR_SERVERS_MAIN_PG_BIN", "/usr/lib/postgresql/17/bin",
                "CELLAR_SERVERS_MAIN_SCHEDULES_WAL_SWEEP", "0 */5 * * * ?");
        CellarSettings s = new SettingsLoader(env, HOME).parseYaml(VALID);
        assertThat(s.home()).isEqualTo(Path.of("/opt/cellar"));
        assertThat(s.repository()).isEqualTo("file:///mnt/backup/repo");
        assertThat(s.server("main").parallel()).isEqualTo(8);
        assertThat(s.server("main").pgBin()).isEqualTo(Path.of("/usr/lib/postgresql/17/bin"));
        assertThat(s.server("main").schedules()).containsEntry("wal-sweep", "0 */5 * * * ?");
        assertThat(s.server("main").walSpool()).isEqualTo(Path.of("/opt/cellar/spool/main"));
    }

    @Test
    void aBadEnvironmentOverrideIsReportedUnderItsKey() {
        ConfigException e = assertThrowsConfig(() -> new SettingsLoader(Map.of("CELLAR_SERVERS_MAIN_RETENTION", "forever"), HOME).parseYaml(VALID));
        assertThat(e.key()).isEqualTo("cellar.servers.main.retention");
    }

    @Test
    void placeholdersAndTildeExpand() {
        CellarSettings s = parse("""
                cellar:
                  home: ~/cellar
                  repository: ${cellar.home}/repo
                  catalog:
                    url: jdbc:h2:file:${cellar.home}/jobs
                  servers:
                    db-2:
                      conninfo: jdbc:postgresql://localhost/postgres
                      wal-spool: ${cellar.home}/incoming/db-2
                      passfile: ~/.pgpass-db2
                """);
        assertThat(s.home()).isEqualTo(Path.of("/home/dba/cellar"));
        assertThat(s.repository()).isEqualTo("file:///home/dba/cellar/repo");
        assertThat(s.catalog().url()).isEqualTo("jdbc:h2:file:/home/dba/cellar/jobs");
        assertThat(s.server("db-2").walSpool()).isEqualTo(Path.of("/home/dba/cellar/incoming/db-2"));
        assertThat(s.server("db-2").passfile()).isEqualTo(Path.of("/home/dba/.pgpass-db2"));
    }

    @Test
    void theAnnotatedExampleShippedInConfigIsValid() {
        CellarSettings s = new SettingsLoader(Map.of(), HOME).load(Path.of("config/cellar.yaml"));
        assertThat(s.server("main").schedules()).hasSize(4);
        assertThat(s.server("main").walSpool()).isEqualTo(Path.of("/var/lib/cellar/spool/main"));
        assertThat(s.server("main").lastWalMaximumAge().duration()).isEqualTo(Duration.ofMinutes(15));
        assertThat(s.serve()).as("the serve block shows the defaults").isEqualTo(ServeSettings.defaults());
    }

    @Test
    void serveAcceptsCommandsOnlyWhenToldAndAMistakeNamesTheKey() {
        assertThat(new SettingsLoader(Map.of(), HOME).parseYaml("cellar:\n  serve:\n    accept-commands: true\n").serve().acceptCommands()).isTrue();
        assertThat(new SettingsLoader(Map.of(), HOME).parseYaml("cellar:\n  serve:\n    listen: 127.0.0.1:7481\n").serve().acceptCommands()).isFalse();
        assertThatThrownBy(() -> new SettingsLoader(Map.of(), HOME).parseYaml("cellar:\n  serve:\n    accept-commands: sometimes\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("cellar.serve.accept-commands").hasMessageContaining("'sometimes' is not true or false");
    }

    @Test
    void aMissingConfigFileIsAnError() {
        assertThatThrownBy(() -> new SettingsLoader(Map.of(), HOME).load(Path.of("/nonexistent/cellar.yaml")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("configuration file /nonexistent/cellar.yaml does not exist or is not a file");
    }

    private static ConfigException assertThrowsConfig(Runnable r) {
        try {
            r.run();
        } catch (ConfigException e) {
            return e;
        }
        throw new AssertionError("expected a ConfigException");
    }

    private static String withHooks(String... lines) {
        StringBuilder b = new StringBuilder("      parallel: 4\n      hooks:\n");
        for (String l : lines) {
            b.append("        ").append(l).append('\n');
        }
        return VALID.replace("      parallel: 4\n", b.toString());
    }

    @Test
    void hooksAreArgumentArraysWithATimeout() {
        String hooks = withHooks("timeout: 90 SECONDS", "pre-backup: [/usr/local/bin/notify, \"two words\", backup]", "post-delete: [logger]");
        ServerSettings main = parse(hooks).server("main");
        assertThat(main.hooks().timeout()).isEqualTo(Duration.ofSeconds(90));
        assertThat(main.hooks().command("pre-backup")).contains(java.util.List.of("/usr/local/bin/notify", "two words", "backup"));
        assertThat(main.hooks().command("post-delete")).contains(java.util.List.of("logger"));
        assertThat(main.hooks().command("post-backup")).isEmpty();
        assertThat(parse(VALID).server("main").hooks().timeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(parse(VALID).server("main").hooks().commands()).isEmpty();
        assertThat(new SettingsLoader(Map.of("CELLAR_SERVERS_MAIN_HOOKS_TIMEOUT", "2 minutes"), HOME).parseYaml(hooks).server("main").hooks().timeout())
                .isEqualTo(Duration.ofMinutes(2));
    }

    @Test
    void hookMistakesAreOneLineNamingTheKey() {
        assertThat(mistake(withHooks("pre-backup: /usr/local/bin/notify backup")).getMessage())
                .isEqualTo("cellar.servers.main.hooks.pre-backup: found '/usr/local/bin/notify backup'; expected an argument array such as "
                        + "[/usr/local/bin/notify, \"--event\", backup]; hooks run without a shell");
        assertThat(mistake(withHooks("pre-bakup: [/bin/true]")).getMessage())
                .startsWith("cellar.servers.main.hooks.pre-bakup: unknown key; expected one of post-archive, post-backup, post-delete, ");
        assertThat(mistake(withHooks("post-backup: []")).getMessage()).startsWith("cellar.servers.main.hooks.post-backup: is empty;");
        assertThat(mistake(withHooks("post-backup: [bin/notify]")).getMessage())
                .isEqualTo("cellar.servers.main.hooks.post-backup: 'bin/notify' is not a program; expected an absolute path or a name found in PATH");
        assertThat(mistake(withHooks("post-backup: [[/bin/true]]")).getMessage())
                .startsWith("cellar.servers.main.hooks.post-backup: every element must be a single value");
        assertThat(mistake(withHooks("timeout: 5 FORTNIGHTS")).getMessage())
                .isEqualTo("cellar.servers.main.hooks.timeout: '5 FORTNIGHTS' is not a timeout; expected \"<n> SECONDS|MINUTES|HOURS|DAYS|WEEKS\" (e.g. \"1 DAY\")");
        assertThat(mistake(withHooks("timeout: 0 SECONDS")).getMessage()).startsWith("cellar.servers.main.hooks.timeout: '0 SECONDS' is not a timeout;");
    }
}
