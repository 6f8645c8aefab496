package dev.cellar.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.api.Cellar;
import dev.cellar.config.CellarSettings;
import dev.cellar.config.SettingsLoader;
import dev.cellar.schedule.ServeDaemon;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cellar serve}'s web side without PostgreSQL: basic authentication (health stays open),
 * the cross-site guard on POST, API errors mapped from exit codes, and the health rule for a server
 * that has no backup while {@code last-backup-maximum-age} is set. The real daemon, on a free port.
 */
class ServeWebTest {

    @TempDir
    static Path dir;

    static ServeDaemon daemon;
    static String base;
    static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Files.writeString(dir.resolve("password"), "s3cret pass\n");
        Files.createDirectories(dir.resolve("spool"));
        Path config = dir.resolve("cellar.yaml");
        Files.writeString(config, """
                cellar:
                  home: %1$s/home
                  repository: %2$s
                  servers:
                    main:
                      conninfo: "jdbc:postgresql://127.0.0.1:1/postgres?user=cellar"
                      wal-spool: %1$s/spool
                      last-backup-maximum-age: 1 DAY
                      schedules: {base-backup: "off", wal-sweep: "off", verify-restore: "off", retention-prune: "off"}
                  serve:
                    listen: 127.0.0.1:%3$d
                    user: operator
                    password-file: %1$s/password
                """.formatted(dir, Files.createDirectories(dir.resolve("repo")).toUri(), port));
        CellarSettings settings = new SettingsLoader(Map.of(), dir).load(config);
        daemon = ServeDaemon.start(Cellar.open(settings), List.of(WebConfiguration.class), true);
        base = "http://127.0.0.1:" + port;
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.shutdown();
        }
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest.Builder get(String path, String user, String password) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(20));
        if (user != null) {
            b.header("Authorization", "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
        }
        return b;
    }

    private static HttpRequest.Builder authorized(String path) {
        return get(path, "operator", "s3cret pass");
    }

    @Test
    void everyPathButHealthNeedsTheConfiguredCredentials() throws Exception {
        for (String path : List.of("/", "/api/servers", "/api/executions", "/actuator/prometheus")) {
            HttpResponse<String> none = send(get(path, null, null));
            assertThat(none.statusCode()).as(path).isEqualTo(401);
            assertThat(none.headers().firstValue("WWW-Authenticate")).as(path).hasValueSatisfying(v -> assertThat(v).startsWith("Basic realm=\"cellar\""));
            assertThat(send(get(path, "operator", "wrong")).statusCode()).as(path).isEqualTo(401);
            assertThat(send(get(path, "someone", "s3cret pass")).statusCode()).as(path).isEqualTo(401);
            assertThat(send(authorized(path)).statusCode()).as(path).isEqualTo(200);
        }
        HttpResponse<String> page = send(authorized("/"));
        assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
        assertThat(page.body()).contains("<title>Cellar").contains("X-Cellar-Action");
        assertThat(page.headers().firstValue("X-Frame-Options")).contains("DENY");
    }

    @Test
    void healthIsOpenAndDownWhenAServerHasNoBackupWithinItsMaximumAge() throws Exception {
        HttpResponse<String> health = send(get("/actuator/health", null, null));
        assertThat(health.statusCode()).as(health.body()).isEqualTo(503);
        assertThat(health.body()).contains("\"status\":\"DOWN\"").contains("\"cellar\"")
                .contains("no backup yet, and last-backup-maximum-age is 1 DAY");

        HttpResponse<String> servers = send(authorized("/api/servers"));
        assertThat(servers.body()).contains("\"name\":\"main\"").contains("\"lastBackupTooOld\":true").contains("\"spoolQueueFiles\":0")
                .contains("\"walErrors\":0");
    }

    @Test
    void postsNeedTheActionHeaderAndTheSameOrigin() throws Exception {
        HttpRequest.BodyPublisher empty = HttpRequest.BodyPublishers.noBody();
        HttpResponse<String> bare = send(authorized("/api/executions/424242/restart").POST(empty));
        assertThat(bare.statusCode()).as(bare.body()).isEqualTo(403);
        assertThat(bare.body()).contains("X-Cellar-Action");

        HttpResponse<String> foreign = send(authorized("/api/executions/424242/restart").POST(empty)
                .header("X-Cellar-Action", "restart").header("Origin", "http://evil.example"));
        assertThat(foreign.statusCode()).as(foreign.body()).isEqualTo(403);

        HttpResponse<String> ok = send(authorized("/api/executions/424242/restart").POST(empty)
                .header("X-Cellar-Action", "restart").header("Origin", base));
        assertThat(ok.statusCode()).as("an unknown execution, once past the guard: " + ok.body()).isEqualTo(404);
        assertThat(ok.body()).contains("\"code\":\"NOT_FOUND\"").contains("no job execution 424242");
    }

    @Test
    void apiErrorsCarryTheExitCodesStatus() throws Exception {
        HttpResponse<String> missing = send(authorized("/api/executions/424242"));
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(missing.body()).contains("\"exitCode\":4");
        assertThat(send(authorized("/api/executions?limit=0")).statusCode()).isEqualTo(400);
        assertThat(send(authorized("/api/executions?since=yesterday")).statusCode()).isEqualTo(400);
        assertThat(send(authorized("/api/executions/abc")).statusCode()).isEqualTo(400);
        HttpResponse<String> empty = send(authorized("/api/executions?status=failed&since=7d"));
        assertThat(empty.statusCode()).isEqualTo(200);
        assertThat(empty.body()).isEqualTo("[]");
    }

    @Test
    void prometheusHasCellarsMetricsForEveryServer() throws Exception {
        String metrics = send(authorized("/actuator/prometheus")).body();
        assertThat(metrics)
                .contains("cellar_last_backup_age_seconds{server=\"main\"} NaN")
                .contains("cellar_last_backup_too_old{server=\"main\"} 1.0")
                .contains("cellar_spool_queue_files{server=\"main\"} 0.0")
                .contains("cellar_wal_errors{server=\"main\"} 0.0")
                .contains("cellar_job_failures{job=\"base-backup\",server=\"main\"} 0.0")
                .contains("cellar_job_unresolved{job=\"wal-sweep\",server=\"main\"} 0.0");
    }
}
