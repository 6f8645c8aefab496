package dev.cellar.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.postgres.Lsn;
import dev.cellar.storage.LocalStorage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reader's doubts, each a fallback with its reason (docs/design.md 5.6): a segment found nowhere, a damaged or
 * unsafe summary, a summary of another segment, a timeline that does not descend from the parent's. The happy path,
 * on real WAL, is WalDerivedIncrementalIT's.
 */
class ChangedBlockMapReaderTest {

    private static final long SEGMENT = 16L << 20;

    @TempDir
    Path dir;

    private WalArchive archive() {
        return new WalArchive(new LocalStorage(dir.resolve("repo")), "main", 3);
    }

    private ChangedBlockMapReader reader() throws Exception {
        return new ChangedBlockMapReader(archive(), Files.createDirectories(dir.resolve("spool")), Files.createDirectories(dir.resolve("pg_wal")),
                15, SEGMENT);
    }

    private static WalFileName name(String n) {
        return WalFileName.parse(n).orElseThrow();
    }

    private void storeSummary(String segment, WalSummary s) throws Exception {
        archive().storeSummary(name(segment), s);
    }

    private static WalSummary summaryOf(String segment) {
        return new WalSummary(Integer.parseInt(segment.substring(0, 8), 16), 15,
                Lsn.of(Long.parseLong(segment.substring(16), 16) * SEGMENT + (Long.parseLong(segment.substring(8, 16), 16) << 32)), SEGMENT);
    }

    @Test
    void aSegmentWithoutSummaryFoundNowhereIsAFallbackNamingIt() throws Exception {
        storeSummary("000000010000000000000003", summaryOf("000000010000000000000003"));
        ChangedBlockMapReader.Outcome o = reader().read(1, Lsn.parse("0/3000028"), Lsn.parse("0/3000100"), 1, Lsn.parse("0/5000028"));
        assertThat(o.hasMap()).isFalse();
        assertThat(o.fallbackReason()).isEqualTo(
                "WAL segment 000000010000000000000004 has no summary and is neither in the repository, the spool nor pg_wal");
    }

    @Test
    void storedSummariesAlongTheRangeMergeIntoAMap() throws Exception {
        WalSummary third = summaryOf("000000010000000000000003");
        WalSummary.RelationFork t = new WalSummary.RelationFork(1663, 5, 16384, 0);
        third.markModified(t, 7);
        storeSummary("000000010000000000000003", third);
        WalSummary fourth = summaryOf("000000010000000000000004");
        fourth.markModified(t, 9);
        storeSummary("000000010000000000000004", fourth);
        ChangedBlockMapReader.Outcome o = reader().read(1, Lsn.parse("0/3000028"), Lsn.parse("0/3000100"), 1, Lsn.parse("0/4FFF000"));
        assertThat(o.hasMap()).as(String.valueOf(o.fallbackReason())).isTrue();
        assertThat(o.map().blocks(t, 0, 100).stream().boxed().toList()).containsExactly(7, 9);
        assertThat(o.map().segments()).isEqualTo(2);
        assertThat(o.map().summarizedNow()).isZero();
        assertThat(o.map().toString()).startsWith("WAL 0/3000028 to 0/4FFF000: 2 segments (0 summarized now), 2 modified blocks, merged in ");
    }

    @Test
    void aProgressIsToldHowFarTheMapIsAndWhatItThrowsEndsTheReadInsteadOfAFallback() throws Exception {
        for (String segment : java.util.List.of("000000010000000000000003", "000000010000000000000004", "000000010000000000000005")) {
            storeSummary(segment, summaryOf(segment));
        }
        ChangedBlockMapReader everyTick = new ChangedBlockMapReader(archive(), Files.createDirectories(dir.resolve("spool")),
                Files.createDirectories(dir.resolve("pg_wal")), 15, SEGMENT, 0);
        java.util.List<String> told = new java.util.ArrayList<>();
        ChangedBlockMapReader.Outcome o = everyTick.read(1, Lsn.parse("0/3000028"), Lsn.parse("0/3000100"), 1, Lsn.parse("0/5FFF000"),
                (done, total) -> told.add(done + "/" + total));
        assertThat(o.hasMap()).as(String.valueOf(o.fallbackReason())).isTrue();
        // One report a segment, then the last count once the map is built (the step's figures end complete).
        assertThat(told).containsExactly("1/3", "2/3", "3/3", "3/3");

        // A stop request, thrown by the progress, ends the read with that exception: not a fallback to block comparison.
        IllegalStateException stop = new IllegalStateException("asked to stop");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> everyTick.read(1, Lsn.parse("0/3000028"), Lsn.parse("0/3000100"), 1,
                Lsn.parse("0/5FFF000"), (done, total) -> {
                    throw stop;
                })).isSameAs(stop);
        // Told nothing within the interval (a second by default): nothing is thrown either.
        assertThat(reader().read(1, Lsn.parse("0/3000028"), Lsn.parse("0/3000100"), 1, Lsn.parse("0/5FFF000"), (done, total) -> {
            throw stop;
        }).hasMap()).isTrue();
    }

    @Test
    void aStopWhileASegmentIsSummarizedEndsTheReadOnceItsWorkersEnd() throws Exception {
        storeSummary("000000010000000000000003", summaryOf("000000010000000000000003"));
        // Segment 4 has no summary and lies in the spool as a named pipe: summarizing it blocks until someone writes.
        Path spool = Files.createDirectories(dir.resolve("spool"));
        Path pipe = spool.resolve("000000010000000000000004");
        Process mkfifo = new ProcessBuilder("mkfifo", pipe.toString()).start();
        assertThat(mkfifo.waitFor()).isZero();
        ChangedBlockMapReader everyTick = new ChangedBlockMapReader(archive(), spool, Files.createDirectories(dir.resolve("pg_wal")), 15, SEGMENT, 0);
        java.util.List<String> told = new java.util.concurrent.CopyOnWriteArrayList<>();
        IllegalStateException stop = new IllegalStateException("asked to stop");
        // Two reports while the stored summaries are read (segment 3 found, segment 4 missing), then the summarizing
        // phase's: the stop comes from there, while the worker is blocked on the pipe.
        ChangedBlockMapReader.Progress stopInTheSummarizing = (done, total) -> {
            told.add(done + "/" + total);
            if (told.size() == 3) {
                // Unblock the worker a little later (EOF: an empty segment), as an interrupted read of the real file would end.
                Thread unblock = new Thread(() -> {
                    try {
                        Thread.sleep(300);
                        Files.newOutputStream(pipe).close();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                unblock.setDaemon(true);
                unblock.start();
                throw stop;
            }
        };
        long started = System.nanoTime();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> everyTick.read(1, Lsn.parse("0/3000028"), Lsn.parse("0/3000100"), 1,
                Lsn.parse("0/4FFF000"), stopInTheSummarizing)).isSameAs(stop);
        assertThat(told).containsExactly("1/2", "1/2", "1/2");
        // read waited for its worker (unblocked after 0.3 s), not the 10 s it would wait at most.
        assertThat((System.nanoTime() - started) / 1_000_000).isBetween(250L, 9_000L);
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().equals("cellar-wal-map") && t.isAlive());
    }

    @Test
    void anUnsafeOrNewerSummaryIsAFallbackAndADamagedOrMisplacedOneIsComputedAgainFromItsSegment() throws Exception {
        Path file = dir.resolve("repo/main/wal/0000000100000000/000000010000000000000003.summary");
        storeSummary("000000010000000000000003", summaryOf("000000010000000000000003"));
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 1] ^= 1;
        Files.write(file, bytes);
        assertThat(reader().read(1, Lsn.parse("0/3000028"), Lsn.parse("0/3000100"), 1, Lsn.parse("0/3800000")).fallbackReason())
                .as("the segment is needed to compute it again").isEqualTo(
                        "WAL segment 000000010000000000000003 has a damaged summary and is neither in the repository, the spool nor pg_wal");

        Files.delete(file);
        WalSummary unsafe = summaryOf("000000010000000000000003");
        unsafe.markUnsafe("wal_level=minimal in a parameter change at 0/3000100");
        storeSummary("000000010000000000000003", unsafe);
        assertThat(reader().read(1, Lsn.parse("0/3000028"), Lsn.parse("0/3000100"), 1, Lsn.parse("0/3800000")).fallbackReason()).isEqualTo(
                "the WAL of 000000010000000000000003 cannot vouch for the blocks it changed: wal_level=minimal in a parameter change at 0/3000100");

        Files.delete(file);
        storeSummary("000000010000000000000003", summaryOf("000000010000000000000009"));
        assertThat(reader().read(1, Lsn.parse("0/3000028"), Lsn.parse("0/3000100"), 1, Lsn.parse("0/3800000")).fallbackReason())
                .as("a summary of another segment is no better than a damaged one").isEqualTo(
                        "WAL segment 000000010000000000000003 has a damaged summary and is neither in the repository, the spool nor pg_wal");

        // Written by a newer Cellar: never recomputed over, the backup says to upgrade.
        Files.delete(file);
        storeSummary("000000010000000000000003", summaryOf("000000010000000000000003"));
        bytes = Files.readAllBytes(file);
        bytes[4] = 9;
        Files.write(file, bytes);
        assertThat(reader().read(1, Lsn.parse("0/3000028"), Lsn.parse("0/3000100"), 1, Lsn.parse("0/3800000")).fallbackReason())
                .contains("has WAL summary format 9").contains("(upgrade Cellar)");
    }

    @Test
    void theRangeFollowsTheTimelineHistoryAndRefusesATimelineThatDoesNotDescend() throws Exception {
        // Timeline 2 branched from 1 at 0/4800000: segment 4 is read from timeline 2's file, 3 from timeline 1's.
        archive().store(name("00000002.history"), "1\t0/4800000\tno recovery target specified\n".getBytes(StandardCharsets.UTF_8));
        storeSummary("000000010000000000000003", summaryOf("000000010000000000000003"));
        storeSummary("000000020000000000000004", summaryOf("000000020000000000000004"));
        ChangedBlockMapReader.Outcome o = reader().read(1, Lsn.parse("0/3000028"), Lsn.parse("0/3000100"), 2, Lsn.parse("0/4900000"));
        assertThat(o.hasMap()).as(String.valueOf(o.fallbackReason())).isTrue();
        assertThat(o.map().segments()).isEqualTo(2);

        assertThat(reader().read(1, Lsn.parse("0/4900000"), Lsn.parse("0/4900100"), 2, Lsn.parse("0/4A00000")).fallbackReason())
                .isEqualTo("timeline 2 does not descend from the parent's timeline 1 at 0/4900000");
        // The parent started before the switch but ended after it, on the old timeline: it may hold changes timeline 2 never had.
        assertThat(reader().read(1, Lsn.parse("0/4700000"), Lsn.parse("0/4810000"), 2, Lsn.parse("0/4A00000")).fallbackReason())
                .isEqualTo("the parent ends at 0/4810000, after timeline 2 left timeline 1 at 0/4800000");
        assertThat(reader().read(1, Lsn.parse("0/3000028"), Lsn.parse("0/3000100"), 3, Lsn.parse("0/4A00000")).fallbackReason())
                .isEqualTo("the history of timeline 3 (00000003.history) was found neither in the repository, the spool nor pg_wal");
        assertThat(reader().read(1, Lsn.parse("0/5000028"), Lsn.parse("0/5000100"), 1, Lsn.parse("0/3000028")).fallbackReason())
                .isEqualTo("the backup starts at 0/3000028, before its parent's start 0/5000028");
    }
}
