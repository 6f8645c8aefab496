package dev.cellar.retention;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;

/**
 * What a prune deletes and why (restic's PlanPrune shape: plan, then execute the plan): the
 * verdict on every backup; the backups to delete; the WAL files older than the oldest retained
 * backup's begin (history files and the ranges standalone keeps need excepted); the backup
 * directories whose unreferenced bundles go (deleted backups, and failed attempts older than the
 * grace period); and the bytes each frees. Kept in the job's execution context as JSON.
 */
public record PrunePlan(String server, String policy, List<RetentionEvaluation.Verdict> verdicts, List<String> deleteBackups,
                        long backupBytes, List<String> deleteWal, long walBytes, List<String> bundleDirectories, long bundleBytes,
                        List<String> notes) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public long bytesFreed() {
        return backupBytes + walBytes + bundleBytes;
    }

    public String encode() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static PrunePlan decode(String json) {
        try {
            return JSON.readValue(json, PrunePlan.class);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("damaged prune plan: " + e.getMessage(), e);
        }
    }
}
