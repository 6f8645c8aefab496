package dev.cellar.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.testing.OsProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The distribution built by {@code mvn package} (target/cellar), run as separate processes the way operators run it. */
class DistributionIT {

    static final Path DIST = Path.of(System.getProperty("cellar.dist", "target/cellar"));

    @TempDir
    Path dir;

    private OsProcess.Result cellar(String... args) {
        List<String> cmd = new ArrayList<>(List.of(DIST.resolve("bin/cellar").toString()));
        cmd.addAll(List.of(args));
        return OsProcess.run(cmd, dir, 120);
    }

    private OsProcess.Result archive(String spool, String path, String name) {
        return OsProcess.run(List.of(DIST.resolve("bin/cellar-wal-archive").toString(), spool, path, name), dir, 30);
    }

    @Test
    void theLayoutHoldsWhatOperatorsNeed() {
        for (String p : new String[] {"bin/cellar", "bin/cellar-wal-archive", "lib/cellar.jar", "config/logback.xml", "config/logback-json.xml",
                "config/cellar.yaml",
                "sql/postgres/backup-role.sql", "jobs"}) {
            assertThat(DIST.resolve(p)).as(p).exists();
        }
        assertThat(Files.isExecutable(DIST.resolve("bin/cellar"))).isTrue();
    }

    @Test
    void theLauncherRunsTheCommandLine() {
        OsProcess.Result help = cellar("--help");
        assertThat(help.exitCode()).as(help.output()).isZero();
        assertThat(help.output()).contains("Usage: cellar").contains("check").contains("jobs");
    }

    @Test
    void aBadConfigurationIsOneLineOnStandardErrorWithExitCodeTwo() throws Exception {
        Path config = Files.writeString(dir.resolve("bad.yaml"), "cellar:\n  servers:\n    main:\n      conninfo: jdbc:postgresql://db/postgres\n      schedules:\n        wal-sweep: every minute\n");
        OsProcess.Result r = cellar("--config", config.toString(), "config");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.output().strip().lines().toList()).containsExactly(
                "cellar: configuration error: cellar.servers.main.schedules.wal-sweep: 'every minute' is not a Quartz cron expression "
                        + "(Illegal characters for this position: 'EVE'); expected six or seven fields "
                        + "'sec min hour day-of-month month day-of-week [year]', e.g. \"0 0 2 * * ?\", or off");
    }

    @Test
    void jobVerbsWorkFromTheDistributionOnAFreshHome() throws Exception {
        Path config = Files.writeString(dir.resolve("cellar.yaml"), "cellar:\n  home: " + dir.resolve("home") + "\n");
        OsProcess.Result r = cellar("--config", config.toString(), "jobs", "list");
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output()).contains("No job executions.");
        assertThat(dir.resolve("home/catalog.mv.db")).exists();
        OsProcess.Result again = cellar("--config", config.toString(), "--json", "jobs", "list");
        assertThat(again.exitCode()).as(again.output()).isZero();
        assertThat(again.output().strip()).isEqualTo("[ ]");
    }

    @Test
    void anotherProcessReadsTheEmbeddedCatalogWhileThisOneHoldsItOpen() throws Exception {
        Path config = Files.writeString(dir.resolve("cellar.yaml"), "cellar:\n  home: " + dir.resolve("home") + "\n");
        try (dev.cellar.api.Cellar cellar = new dev.cellar.api.Cellar(
                new dev.cellar.config.SettingsLoader(java.util.Map.of(), dir).load(config),
                new dev.cellar.postgres.PostgresConnector(java.util.Map.of(), dir))) {
            var execution = cellar.jobs().launcher().launch(dev.cellar.jobs.testjob.CountingJobConfig.JOB,
                    new org.springframework.batch.core.job.parameters.JobParametersBuilder()
                            .addString("server", "shared")
                            .addString("out", dir.resolve("n.txt").toString(), false).toJobParameters());
            // This JVM keeps the H2 file open (the pool holds a connection); a second process must still get in.
            OsProcess.Result r = cellar("--config", config.toString(), "jobs", "list", "--server", "shared");
            assertThat(r.exitCode()).as(r.output()).isZero();
            assertThat(r.output()).contains("test-count").contains("COMPLETED").containsPattern("(?m)^" + execution.getId() + "\\s");
        }
    }

    /** A JDK of feature version 25 or newer on this machine (its home), if any: bin/cellar then uses an AOT cache. */
    static java.util.Optional<Path> newerJdk() throws java.io.IOException {
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return java.util.Optional.empty();
        }
        try (var homes = Files.list(jvms)) {
            return homes.filter(h -> Files.isExecutable(h.resolve("bin/java")) && featureVersion(h.resolve("release")) >= 25).sorted().findFirst();
        }
    }

    private static int featureVersion(Path release) {
        try {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^JAVA_VERSION=\"(\\d+)").matcher(Files.readString(release));
            return m.find() ? Integer.parseInt(m.group(1)) : 0;
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    @Test
    void onJava25TheFirstJobsRunRecordsAnAotCacheThatLaterRunsUseAndNothingReachesTheOutput() throws Exception {
        java.util.Optional<Path> jdk = newerJdk();
        org.junit.jupiter.api.Assumptions.assumeTrue(jdk.isPresent(), "no JDK 25 or newer under /usr/lib/jvm");
        Path config = Files.writeString(dir.resolve("cellar.yaml"), "cellar:\n  home: " + dir.resolve("home") + "\n");
        Path cache = Files.createDirectories(dir.resolve("cache"));
        Path stderr = dir.resolve("stderr.txt");
        java.util.function.Function<String, OsProcess.Result> jobsList = javaOpts -> OsProcess.run(List.of("env",
                "JAVA_HOME=" + jdk.get(), "CELLAR_CDS_DIR=" + cache, "CELLAR_JAVA_OPTS=" + javaOpts,
                "sh", "-c", "exec \"$@\" 2>\"" + stderr + "\"", "sh",
                DIST.resolve("bin/cellar").toString(), "--config", config.toString(), "--json", "jobs", "list"), dir, 120);

        // The recording run: standard output carries only the result; the JVM's one line about the recording goes to
        // standard error.
        OsProcess.Result first = jobsList.apply("");
        assertThat(first.exitCode()).as(first.output()).isZero();
        assertThat(first.output().strip()).isEqualTo("[ ]");
        assertThat(Files.readString(stderr)).matches("\\s*(AOTConfiguration recorded: \\S+\\s*)?");
        try (var files = Files.list(cache)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).singleElement().asString().matches("aot-\\d+-jobs\\.aot");
        }

        // -XX:AOTMode=on makes the JVM refuse to start when the cache cannot be used: this run uses it.
        OsProcess.Result second = jobsList.apply("-XX:AOTMode=on");
        assertThat(second.exitCode()).as(second.output() + Files.readString(stderr)).isZero();
        assertThat(second.output().strip()).isEqualTo("[ ]");
        assertThat(Files.readString(stderr)).isEmpty();

        // A damaged cache is not used, and says nothing.
        try (var files = Files.list(cache)) {
            Path aot = files.findFirst().orElseThrow();
            byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(aot), 4096);
            Files.write(aot, head);
        }
        OsProcess.Result damaged = jobsList.apply("");
        assertThat(damaged.exitCode()).as(damaged.output()).isZero();
        assertThat(damaged.output().strip()).isEqualTo("[ ]");
        assertThat(Files.readString(stderr)).isEmpty();
    }

    @Test
    void jsonLogsAreOneObjectPerLineOnStandardError() throws Exception {
        Path config = Files.writeString(dir.resolve("cellar.yaml"), "cellar:\n  home: " + dir.resolve("home") + "\n");
        List<String> cmd = List.of("env", "CELLAR_LOG_FORMAT=json", "CELLAR_LOG_LEVEL=DEBUG", DIST.resolve("bin/cellar").toString(),
                "--config", config.toString(), "jobs", "list");
        OsProcess.Result r = OsProcess.run(cmd, dir, 120);
        assertThat(r.exitCode()).as(r.output()).isZero();
        List<String> logLines = r.output().lines().filter(l -> l.startsWith("{")).toList();
        assertThat(logLines).isNotEmpty();
        for (String line : logLines) {
            assertThat(new com.fasterxml.jackson.databind.ObjectMapper().readTree(line).has("level")).as(line).isTrue();
        }
    }

    @Test
    void theArchiveScriptSpoolsDurablyAndNeverOverwrites() throws Exception {
        Path spool = Files.createDirectories(dir.resolve("spool"));
        byte[] segment = new byte[1 << 20];
        new Random(7).nextBytes(segment);
        Path wal = Files.write(dir.resolve("000000010000000000000003"), segment);

        OsProcess.Result first = archive(spool.toString(), wal.toString(), "000000010000000000000003");
        assertThat(first.exitCode()).as(first.output()).isZero();
        assertThat(spool.resolve("000000010000000000000003")).hasBinaryContent(segment);
        try (var files = Files.list(spool)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("000000010000000000000003");
        }

        // PostgreSQL may archive the same segment again after a crash: identical content is success.
        assertThat(archive(spool.toString(), wal.toString(), "000000010000000000000003").exitCode()).isZero();

        // Different content under an archived name is refused, and the spooled file is untouched.
        byte[] other = segment.clone();
        other[100] ^= 1;
        Path changed = Files.write(dir.resolve("changed"), other);
        OsProcess.Result dup = archive(spool.toString(), changed.toString(), "000000010000000000000003");
        assertThat(dup.exitCode()).isEqualTo(1);
        assertThat(dup.output()).contains("000000010000000000000003 is already spooled with different content; not overwriting it");
        assertThat(spool.resolve("000000010000000000000003")).hasBinaryContent(segment);
    }

    @Test
    void theArchiveScriptRefusesBadArgumentsAndMissingSpools() throws Exception {
        Path wal = Files.writeString(dir.resolve("w"), "x", StandardCharsets.UTF_8);
        assertThat(OsProcess.run(List.of(DIST.resolve("bin/cellar-wal-archive").toString(), "only-one"), dir, 30).exitCode()).isEqualTo(2);
        assertThat(archive(dir.toString(), wal.toString(), "../escape").exitCode()).isEqualTo(2);
        OsProcess.Result noSpool = archive(dir.resolve("missing").toString(), wal.toString(), "000000010000000000000001");
        assertThat(noSpool.exitCode()).isEqualTo(1);
        assertThat(noSpool.output()).contains("spool directory " + dir.resolve("missing") + " does not exist");
        OsProcess.Result noSource = archive(dir.toString(), dir.resolve("nope").toString(), "000000010000000000000001");
        assertThat(noSource.exitCode()).isEqualTo(1);
        assertThat(dir.resolve("000000010000000000000001")).doesNotExist();
    }
}
