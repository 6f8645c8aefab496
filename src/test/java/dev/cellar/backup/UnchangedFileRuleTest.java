package dev.cellar.backup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.repository.BackupInfo;
import dev.cellar.repository.ManifestEntry;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.CsvSource;

class UnchangedFileRuleTest {

    static final Instant PARENT_START = Instant.parse("2026-11-27T02:00:00Z");
    static final long OLD = PARENT_START.minusSeconds(3600).toEpochMilli();

    static BackupInfo parent(int timeline) {
        return new BackupInfo("20261127T020000", "main", "full", null, "0/2000028", "0/2000100", timeline, "x", "y", PARENT_START,
                PARENT_START.plusSeconds(60), "l", 15, "1", 0, 0, 0, 0, "zstd:3", "", "", null, null, null);
    }

    static ManifestEntry entry(long size, long mtime) {
        return new ManifestEntry("base/1/16384", ManifestEntry.Type.FILE, size, mtime, 0600, "sha", 8192, new long[] {1}, List.of(), null, List.of());
    }

    static DataDirectoryScanner.SourceFile file(long size, long mtime) {
        return new DataDirectoryScanner.SourceFile("base/1/16384", Path.of("/x"), ManifestEntry.Type.FILE, size, mtime, 0640, 0, null);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "unchanged and older than the parent,  8192, 0,      8192, 0,      1, true",
            "size changed with the same mtime,     8192, 0,      16384, 0,     1, false",
            "mtime changed,                        8192, 0,      8192, 5000,   1, false",
            "mtime went backwards,                 8192, 0,      8192, -5000,  1, false",
            "modified while the parent ran,        8192, 3600500, 8192, 3600500, 1, false",
            "modified just before the parent,      8192, 3599500, 8192, 3599500, 1, false",
            "timeline changed since the parent,    8192, 0,      8192, 0,      2, false",
    })
    void reusesOnlyTrustworthyTimestamps(String why, long parentSize, long parentMtimeOffset, long size, long mtimeOffset, int timeline, boolean reused) {
        UnchangedFileRule rule = new UnchangedFileRule(parent(1), timeline, PARENT_START.plusSeconds(7200));
        var result = rule.reuse(file(size, OLD + mtimeOffset), entry(parentSize, OLD + parentMtimeOffset));
        assertThat(result.isPresent()).as(why).isEqualTo(reused);
        result.ifPresent(e -> assertThat(e.mode()).isEqualTo(0640));
    }

    @Test
    void aModificationTimeInTheFutureIsNotTrusted() {
        // a file dated after "now" (a clock that jumped): same size and mtime as in the parent, still read again
        Instant now = PARENT_START.plusSeconds(7200);
        long future = now.plusSeconds(3600).toEpochMilli();
        UnchangedFileRule rule = new UnchangedFileRule(parent(1), 1, now);
        assertThat(rule.reuse(file(8192, future), entry(8192, future))).isEmpty();
        assertThat(rule.reuse(file(8192, OLD), entry(8192, OLD))).isPresent();
    }

    @Test
    void nothingIsReusedWithoutAParent() {
        assertThat(new UnchangedFileRule(null, 1, PARENT_START).reuse(file(8192, OLD), entry(8192, OLD))).isEmpty();
    }
}
