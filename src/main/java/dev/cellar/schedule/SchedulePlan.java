package dev.cellar.schedule;

import dev.cellar.config.CellarSettings;
import dev.cellar.config.ServerSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * What {@code cellar serve} schedules: for every configured server, each job of
 * {@link ScheduledJob} with the server's cron expression or the job's default, minus the ones
 * turned {@code off} and a retention prune for a server without a retention policy.
 */
public record SchedulePlan(List<Entry> entries, List<String> notes) {

    /** One schedule: a job for a server, at a Quartz cron expression. */
    public record Entry(String server, ScheduledJob job, String cron, boolean isDefault) {
    }

    public static SchedulePlan of(CellarSettings settings) {
        List<Entry> entries = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        for (ServerSettings server : new TreeMap<>(settings.servers()).values()) {
            for (ScheduledJob job : ScheduledJob.values()) {
                String configured = server.schedules().get(job.jobName());
                if (ServerSettings.SCHEDULE_OFF.equals(configured)) {
                    notes.add(server.name() + ": " + job.jobName() + " is off (schedules." + job.jobName() + ": off)");
                    continue;
                }
                if (job == ScheduledJob.RETENTION_PRUNE && server.retentionPolicy().isEmpty()) {
                    if (configured != null) {
                        notes.add(server.name() + ": retention-prune is not scheduled: the server has no retention policy");
                    }
                    continue;
                }
                entries.add(new Entry(server.name(), job, configured != null ? configured : job.defaultSchedule(), configured == null));
            }
        }
        return new SchedulePlan(List.copyOf(entries), List.copyOf(notes));
    }
}
