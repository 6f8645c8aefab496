package dev.cellar.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The plan is kept in the job context as JSON: what a restart decodes must be what was planned. */
class PrunePlanTest {

    private static PrunePlan full() {
        return new PrunePlan("main", "RECOVERY WINDOW OF 7 DAYS",
                List.of(new RetentionEvaluation.Verdict("20260101T020000", RetentionStatus.OBSOLETE, "ended before 2026-02-27T09:30:00Z and a newer backup also does"),
                        new RetentionEvaluation.Verdict("20260108T020000", RetentionStatus.NEEDED, "obsolete, but backup 20260115T020000 references its blocks"),
                        new RetentionEvaluation.Verdict("20260115T020000", RetentionStatus.VALID, "the newest backup ending before the point of recoverability"),
                        new RetentionEvaluation.Verdict("20260120T020000", RetentionStatus.KEEP_FULL, "kept with all WAL after it"),
                        new RetentionEvaluation.Verdict("20260125T020000", RetentionStatus.KEEP_STANDALONE, "kept with the WAL from its begin to its end")),
                List.of("20260101T020000"), 123_456L,
                List.of("main/wal/0000000100000000/000000010000000000000001.zst", "main/wal/0000000100000000/000000010000000000000002.partial.zst"),
                5L * (16L << 20),
                List.of("20260101T020000", "20251231T020000"), 9_876_543_210L,
                List.of("backup directory 20251231T020000 holds a backup that never committed and is older than 3 days: its unreferenced bundles go",
                        "quotes \" and backslashes \\ and ünïcödé survive"));
    }

    @Test
    void roundTripsEveryField() {
        PrunePlan plan = full();
        PrunePlan back = PrunePlan.decode(plan.encode());
        assertThat(back).isEqualTo(plan);
        assertThat(back.verdicts()).extracting(RetentionEvaluation.Verdict::status)
                .containsExactly(RetentionStatus.OBSOLETE, RetentionStatus.NEEDED, RetentionStatus.VALID, RetentionStatus.KEEP_FULL,
                        RetentionStatus.KEEP_STANDALONE);
        assertThat(back.verdicts().get(1).reason()).isEqualTo("obsolete, but backup 20260115T020000 references its blocks");
        assertThat(back.notes()).containsExactlyElementsOf(plan.notes());
        assertThat(back.bytesFreed()).isEqualTo(123_456L + 5L * (16L << 20) + 9_876_543_210L);
    }

    @Test
    void roundTripsAnEmptyPlan() {
        PrunePlan plan = new PrunePlan("main", "REDUNDANCY 1", List.of(), List.of(), 0, List.of(), 0, List.of(), 0, List.of());
        assertThat(PrunePlan.decode(plan.encode())).isEqualTo(plan);
    }

    @Test
    void encodingIsStableAcrossARoundTrip() {
        String once = full().encode();
        assertThat(PrunePlan.decode(once).encode()).isEqualTo(once);
    }

    @Test
    void encodesTheComponentsOnlyWithStatusesByName() throws Exception {
        JsonNode json = new ObjectMapper().readTree(full().encode());
        assertThat(json.fieldNames()).toIterable().containsExactlyInAnyOrder("server", "policy", "verdicts", "deleteBackups", "backupBytes",
                "deleteWal", "walBytes", "bundleDirectories", "bundleBytes", "notes");
        assertThat(json.path("verdicts").get(1).path("status").asText()).isEqualTo("NEEDED");
    }

    @Test
    void aDamagedPlanIsReportedAsSuch() {
        String json = full().encode();
        assertThatThrownBy(() -> PrunePlan.decode(json.substring(0, json.length() / 2)))
                .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("damaged prune plan:");
        assertThatThrownBy(() -> PrunePlan.decode(json.replace("\"KEEP_FULL\"", "\"KEEP_FOREVER\"")))
                .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("damaged prune plan:");
    }
}
