package dev.cellar.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cellar.api.Cellar;
import dev.cellar.config.CellarSettings;
import dev.cellar.config.SettingsLoader;
import dev.cellar.jobs.ExecutionDetail;
import dev.cellar.jobs.backup.BaseBackupJobConfig;
import dev.cellar.schedule.ServeDaemon;
import dev.cellar.testing.CliRun;
import dev.cellar.testing.OsProcess;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.testing.TestConfig;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The job history page end to end, in Debian's headless Chromium driven through its chromedriver:
 * a real FAILED base backup (PostgreSQL was down), the page shows it with a Restart button, the
 * click restarts it through the API and the page then shows the continued execution COMPLETED, as
 * the job repository does. Then the metrics of server {@code main} on {@code /actuator/prometheus}
 * and the health rule, with a second server whose {@code last-backup-maximum-age} is broken.
 *
 * <p>Needs /usr/bin/chromium and /usr/bin/chromedriver ({@code apt-get install chromium chromium-driver};
 * .ci/run installs them): without them the test fails, saying so.
 */
class ServePageIT {

    static final Path CHROMIUM = Path.of(System.getProperty("cellar.chromium", "/usr/bin/chromium"));
    static final Path CHROMEDRIVER = Path.of(System.getProperty("cellar.chromedriver", "/usr/bin/chromedriver"));

    @TempDir
    Path dir;

    private Path home;
    private ServeDaemon daemon;
    private WebDriver browser;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final ObjectMapper json = new ObjectMapper();

    @AfterEach
    void tearDown() {
        try {
            if (browser != null) {
                browser.quit();
            }
        } finally {
            if (daemon != null) {
                daemon.shutdown();
            }
            if (home != null) {
                OsProcess.deleteTree(home);
            }
        }
    }

    static void requireChromium() {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            throw new AssertionError("This test drives Debian's headless Chromium: " + (Files.isExecutable(CHROMIUM) ? "" : CHROMIUM + " ")
                    + (Files.isExecutable(CHROMEDRIVER) ? "" : CHROMEDRIVER + " ") + "missing. Install them with "
                    + "'apt-get install -y chromium chromium-driver' (.ci/run does), or point -Dcellar.chromium and -Dcellar.chromedriver at them.");
        }
    }

    private WebDriver chromium() throws Exception {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // As the machine notes say: no sandbox as root, and no background connections on a closed network.
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--user-data-dir=" + Files.createDirectories(dir.resolve("chromium-profile")), "--window-size=1400,1000");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort()
                .withLogFile(dir.resolve("chromedriver.log").toFile()).build();
        return new ChromeDriver(service, options);
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** main: the harness cluster, last-backup-maximum-age 1 DAY; stale: no backup ever, last-backup-maximum-age 1 HOUR. No schedules. */
    private Path configure(PostgresCluster pg, int port) throws Exception {
        Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
        Path c = TestConfig.write(dir, pg, "postgres", passfile, TestConfig.fileRepository(dir));
        String off = "      schedules: {base-backup: \"off\", wal-sweep: \"off\", verify-restore: \"off\", retention-prune: \"off\"}\n";
        Files.createDirectories(dir.resolve("stale-spool"));
        Files.writeString(c, Files.readString(c).replace("home: " + dir.resolve("home"), "home: " + home)
                + "      last-backup-maximum-age: 1 DAY\n" + off
                + "    stale:\n"
                + "      conninfo: \"jdbc:postgresql://127.0.0.1:1/postgres?user=postgres\"\n"
                + "      wal-spool: " + dir.resolve("stale-spool") + "\n"
                + "      last-backup-maximum-age: 1 HOUR\n" + off
                + "  serve:\n"
                + "    listen: 127.0.0.1:" + port + "\n");
        return c;
    }

    /** Polls until {@code probe} gives a non-null value; elements not there yet (or replaced by a refresh) count as null. */
    private <T> T waitFor(Duration timeout, java.util.function.Supplier<T> probe) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException last = null;
        while (System.nanoTime() < deadline) {
            try {
                T value = probe.get();
                if (value != null) {
                    return value;
                }
            } catch (org.openqa.selenium.NoSuchElementException | org.openqa.selenium.StaleElementReferenceException e) {
                last = e;
            }
            Thread.sleep(250);
        }
        throw new AssertionError("not seen within " + timeout + " on the page; it shows:\n"
                + browser.findElement(By.tagName("body")).getText(), last);
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static double metric(String exposition, String name, String labels) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name + "{" + labels + "}") + " (\\S+)$").matcher(exposition);
        assertThat(m.find()).as(name + "{" + labels + "} in\n" + exposition.lines().filter(l -> l.startsWith("cellar_")).toList()).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void aFailedBackupIsShownRestartedFromThePageAndCompletes() throws Exception {
        requireChromium();
        home = PostgresCluster.newBase(); // verification scratch space must be reachable by the OS user the server runs as
        int port = freePort();
        String base = "http://127.0.0.1:" + port;
        try (PostgresCluster pg = PostgresCluster.start()) {
            pg.execute("CREATE TABLE accounts AS SELECT g AS id, md5(g::text) AS filler FROM generate_series(1, 20000) g", "CHECKPOINT");

            // A real failure: PostgreSQL is down while the backup runs.
            pg.stop();
            Path config = configure(pg, port);
            CliRun failed = CliRun.run(dir, "--config", config.toString(), "backup", "main");
            assertThat(failed.exitCode()).as(failed.toString()).isEqualTo(1);
            assertThat(failed.out()).contains("FAILED");

            pg.startAgain(); // on a new port: the configuration is written again
            config = configure(pg, port);
            CellarSettings settings = new SettingsLoader(Map.of(), dir).load(config);
            Cellar cellar = Cellar.open(settings);
            daemon = ServeDaemon.start(cellar, List.of(WebConfiguration.class), true);

            JsonNode failedList = json.readTree(get(base + "/api/executions?job=base-backup&status=FAILED").body());
            assertThat(failedList).hasSize(1);
            long failedId = failedList.get(0).get("id").asLong();
            assertThat(failedList.get(0).get("restartable").asBoolean()).isTrue();

            browser = chromium();
            browser.get(base + "/");
            By failedRow = By.cssSelector("#executions tr[data-execution='" + failedId + "']");
            WebElement row = waitFor(Duration.ofSeconds(30), () -> browser.findElement(failedRow));
            assertThat(row.findElement(By.cssSelector("td.status")).getText()).isEqualTo("FAILED");
            assertThat(row.getText()).contains("base-backup").contains("main");
            assertThat(row.findElement(By.cssSelector("td.msg")).getText()).as("the recorded root cause").isNotBlank();
            WebElement servers = browser.findElement(By.id("servers"));
            assertThat(servers.findElement(By.cssSelector("tr[data-server='main']")).getText()).contains("none");
            assertThat(servers.findElement(By.cssSelector("tr[data-server='stale'] td.health")).getText())
                    .contains("no backup yet, and last-backup-maximum-age is 1 HOUR");

            row.findElement(By.cssSelector("button.restart")).click();

            // The page refreshes while the restarted execution runs, until it shows it COMPLETED.
            WebElement done = waitFor(Duration.ofSeconds(240), () -> browser.findElements(By.cssSelector("#executions tr[data-status='COMPLETED']")).stream()
                    .filter(r -> r.getText().contains("base-backup")).findFirst().orElse(null));
            long restartedId = Long.parseLong(done.getDomAttribute("data-execution"));
            assertThat(restartedId).isGreaterThan(failedId);
            assertThat(done.findElement(By.cssSelector("td.msg")).getText()).as("no failure on the completed execution").isEmpty();
            assertThat(browser.findElement(By.id("message")).getText()).contains("Execution " + failedId);
            WebElement oldRow = browser.findElement(failedRow);
            assertThat(oldRow.findElements(By.cssSelector("button.restart"))).as("no second restart of a continued execution").isEmpty();
            assertThat(oldRow.getText()).contains("restarted as " + restartedId);

            // A screenshot for people reviewing the page (target/serve-page.png).
            Path shot = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(org.openqa.selenium.OutputType.FILE).toPath();
            Files.copy(shot, Path.of("target", "serve-page.png"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

            // The job repository agrees: the same backup (same identity), continued and COMPLETED.
            ExecutionDetail before = daemon.runtime().history().show(failedId);
            ExecutionDetail after = daemon.runtime().history().show(restartedId);
            assertThat(before.execution().status()).isEqualTo("FAILED");
            assertThat(after.execution().status()).isEqualTo("COMPLETED");
            assertThat(after.parameters().get(BaseBackupJobConfig.BACKUP_ID)).isEqualTo(before.parameters().get(BaseBackupJobConfig.BACKUP_ID));
            String backupId = after.parameters().get(BaseBackupJobConfig.BACKUP_ID);
            // The audit says who restarted it: the page's (unauthenticated, loopback) user, from the browser's address.
            CliRun audit = CliRun.run(dir, "--config", config.toString(), "--json", "jobs", "audit", "--action", "jobs restart");
            assertThat(audit.exitCode()).as(audit.toString()).isZero();
            assertThat(audit.out()).contains("\"user\" : \"web:anonymous\"").contains("\"host\" : \"127.0.0.1\"").contains(Long.toString(failedId));

            // The server table shows the backup once the page refreshes (the snapshot is at most 5 s old).
            browser.findElement(By.id("refresh")).click();
            waitFor(Duration.ofSeconds(30), () -> browser.findElement(By.cssSelector("#servers tr[data-server='main']")).getText()
                    .contains(backupId) ? Boolean.TRUE : null);

            // WAL reaches the repository, and the backup is verified: every per-server metric then has a value.
            cellar.switchWal("main", true, Duration.ofSeconds(60));
            assertThat(cellar.verify("main", null, false).verification().passed()).isTrue();
            daemon.runtime().bean(ServerStatusService.class).invalidate();
            daemon.runtime().bean(JobStatistics.class).invalidate();

            String metrics = get(base + "/actuator/prometheus").body();
            String main = "server=\"main\"";
            assertThat(metric(metrics, "cellar_last_backup_age_seconds", main)).isBetween(0.0, 600.0);
            assertThat(metric(metrics, "cellar_last_wal_age_seconds", main)).isBetween(0.0, 600.0);
            assertThat(metric(metrics, "cellar_spool_queue_files", main)).isBetween(0.0, 5.0);
            assertThat(metric(metrics, "cellar_wal_errors", main)).isZero();
            assertThat(metric(metrics, "cellar_verification_rto_seconds", main)).isBetween(0.1, 600.0);
            assertThat(metric(metrics, "cellar_last_backup_too_old", main)).isZero();
            assertThat(metric(metrics, "cellar_backup_throughput_bytes_per_second", main)).isGreaterThan(0.0);
            assertThat(metric(metrics, "cellar_restore_throughput_bytes_per_second", main)).as("no restore job ran").isNaN();
            assertThat(metric(metrics, "cellar_job_failures", "job=\"base-backup\",server=\"main\"")).isEqualTo(1.0);
            assertThat(metric(metrics, "cellar_job_unresolved", "job=\"base-backup\",server=\"main\"")).as("restarted since").isZero();
            assertThat(metric(metrics, "cellar_job_failures", "job=\"verify-restore\",server=\"main\"")).isZero();
            assertThat(metric(metrics, "cellar_last_backup_too_old", "server=\"stale\"")).isEqualTo(1.0);
            assertThat(metric(metrics, "cellar_last_backup_age_seconds", "server=\"stale\"")).isNaN();

            // Health: DOWN, because of server stale only.
            HttpResponse<String> health = get(base + "/actuator/health");
            assertThat(health.statusCode()).as(health.body()).isEqualTo(503);
            JsonNode servers2 = json.readTree(health.body()).at("/components/cellar/details/servers");
            assertThat(servers2.at("/main/status").asText()).as(health.body()).isEqualTo("UP");
            assertThat(servers2.at("/main/lastBackup").asText()).isEqualTo(backupId);
            assertThat(servers2.at("/stale/status").asText()).isEqualTo("DOWN");

            // The API's view of the server matches.
            JsonNode api = json.readTree(get(base + "/api/servers").body());
            JsonNode m = api.get(0).get("name").asText().equals("main") ? api.get(0) : api.get(1);
            assertThat(m.at("/lastBackup/id").asText()).isEqualTo(backupId);
            assertThat(m.at("/lastWal/segment").asText()).matches("[0-9A-F]{24}");
            assertThat(m.at("/lastVerification/passed").asBoolean()).isTrue();
        }
    }

    static {
        // chromedriver is given explicitly: Selenium Manager must not try to download a driver.
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        System.setProperty("SE_AVOID_STATS", "true");
    }
}
