package dev.cellar.web;

import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * {@code /actuator/health}, component {@code cellar}: DOWN when a server breaks its
 * {@code last-backup-maximum-age} (or has no backup while one is set), has files in wal-errors/,
 * or its repository cannot be read; details per server.
 */
public class CellarHealthIndicator implements HealthIndicator {

    private final ServerStatusService status;

    public CellarHealthIndicator(ServerStatusService status) {
        this.status = status;
    }

    @Override
    public Health health() {
        boolean up = true;
        Map<String, Object> servers = new LinkedHashMap<>();
        for (ServerStatus s : status.servers().values()) {
            up &= s.healthy();
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("status", s.healthy() ? "UP" : "DOWN");
            d.put("lastBackup", s.lastBackup() == null ? null : s.lastBackup().id());
            d.put("lastBackupAgeSeconds", s.lastBackup() == null ? null : s.lastBackup().ageSeconds());
            d.put("lastBackupMaximumAge", s.lastBackupMaximumAge());
            d.put("walErrors", s.walErrors());
            d.put("problems", s.problems());
            servers.put(s.name(), d);
        }
        return (up ? Health.up() : Health.down()).withDetail("servers", servers).build();
    }
}
