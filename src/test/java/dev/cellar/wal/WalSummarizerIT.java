package dev.cellar.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.testing.OsProcess;
import dev.cellar.testing.PostgresBinaries;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.wal.WalSummary.RelationFork;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * WAL summaries of real WAL, segment by segment, against an oracle Cellar did not write: {@code pg_waldump} of
 * PostgreSQL 15 over the same segments. The expected summary is built from pg_waldump's text (its block
 * references, and its descriptions of storage, transaction and database records) with the summary rules applied
 * here independently; the summarizer must produce exactly that, fork by fork, block by block, limit by limit,
 * and the same number of records per segment. PostgreSQL 13 and 17 (zonky binaries, no pg_waldump) are checked against
 * what the workload itself created.
 */
class WalSummarizerIT {

    private static final long SEGMENT = 16L << 20;

    /** The workload: every kind of record the summary rules treat specially, plus plenty of block references. */
    private static void workload(Connection c, int major) throws Exception {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE a (id int, pad text)");
            s.execute("INSERT INTO a SELECT g, repeat('x', 100) FROM generate_series(1, 20000) g");
            s.execute("CREATE INDEX a_id ON a (id)");
            s.execute("UPDATE a SET pad = repeat('y', 100) WHERE id BETWEEN 5000 AND 6000");
            s.execute("CREATE TABLE b (n int)");
            s.execute("INSERT INTO b SELECT generate_series(1, 5000)");
            s.execute("TRUNCATE b"); // a new relfilenode; the old one dropped at commit
            s.execute("INSERT INTO b SELECT generate_series(1, 100)");
            s.execute("DELETE FROM a WHERE id > 15000");
            s.execute("VACUUM a"); // prunes, sets VM bits
            s.execute("CREATE TABLE e (n int, pad text)");
            s.execute("INSERT INTO e SELECT g, repeat('e', 200) FROM generate_series(1, 10000) g");
            s.execute("SELECT pg_switch_wal()"); // so that e's creation (limit 0) is in an earlier segment than its truncation
            s.execute("DELETE FROM e WHERE n > 2000");
            s.execute("VACUUM e"); // truncates the heap's empty tail (XLOG_SMGR_TRUNCATE)
            s.execute("CREATE TABLE c (n int)");
            s.execute("INSERT INTO c SELECT generate_series(1, 1000)");
            s.execute("DROP TABLE c"); // commit with dropped relations
            s.execute("BEGIN");
            s.execute("CREATE TABLE d (n int)");
            s.execute("INSERT INTO d SELECT generate_series(1, 1000)");
            s.execute("ROLLBACK"); // abort with dropped relations
            if (major >= 15) {
                s.execute("CREATE DATABASE wal_log_db STRATEGY WAL_LOG");
                s.execute("CREATE DATABASE file_copy_db STRATEGY FILE_COPY");
            } else {
                s.execute("CREATE DATABASE file_copy_db");
            }
            s.execute("DROP DATABASE file_copy_db");
            // A record longer than a segment: it starts in one segment and ends two segments later.
            s.execute("SELECT pg_logical_emit_message(false, 'cellar', repeat('z', 40000000))");
            s.execute("INSERT INTO a SELECT g, repeat('w', 100) FROM generate_series(20001, 200000) g");
            s.execute("VACUUM FULL b");
        }
    }

    private static List<String> switchAndCollect(PostgresCluster pg, Connection c) throws Exception {
        String last;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_walfile_name(pg_switch_wal())")) {
            rs.next();
            last = rs.getString(1);
        }
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(pg.spool().resolve(last)));
        try (Stream<Path> files = Files.list(pg.spool())) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.matches("[0-9A-F]{24}") && n.compareTo(last) <= 0).sorted().toList();
        }
    }

    private static Map<String, WalSummary> summarize(Path spool, List<String> segments, int major) throws Exception {
        Map<String, WalSummary> out = new LinkedHashMap<>();
        for (String n : segments) {
            WalFileName name = WalFileName.parse(n).orElseThrow();
            byte[] content = Files.readAllBytes(spool.resolve(n));
            WalSummarizer.Result r = WalSummarizer.summarize(name, content, major,
                    WalSummarizer.following(name, SEGMENT, (s, bytes) -> WalSummarizer.headOf(spool.resolve(s.name()), bytes)));
            assertThat(r.incomplete()).as("summary of %s", n).isNull();
            out.put(n, r.summary());
        }
        return out;
    }

    @Test
    void summariesOfPostgres15WalMatchPgWaldump() throws Exception {
        PostgresBinaries bin = PostgresBinaries.requireLocal();
        Assumptions.assumeTrue(bin.has("pg_waldump"), "pg_waldump of the local PostgreSQL");
        try (PostgresCluster pg = PostgresCluster.start(PostgresCluster.Spec.defaults().setting("wal_keep_size", "0"));
             Connection c = pg.connect()) {
            workload(c, bin.major());
            List<String> segments = switchAndCollect(pg, c);
            assertThat(segments.size()).isGreaterThanOrEqualTo(3);
            long t0 = System.nanoTime();
            Map<String, WalSummary> actual = summarize(pg.spool(), segments, bin.major());
            long summarizeMillis = (System.nanoTime() - t0) / 1_000_000;

            OsProcess.Result dump = OsProcess.run(List.of(bin.tool("pg_waldump").toString(), "-p", pg.spool().toString(),
                    segments.get(0), segments.get(segments.size() - 1)), null, 120);
            Files.writeString(Path.of("target/walsummarizer-it-waldump.txt"), dump.output());
            Map<String, Expected> expected = expectedFromWaldump(dump.output(), segments);

            int crossing = 0;
            boolean sawSentinel = false;
            boolean sawTruncate = false;
            boolean sawDropped = false;
            for (String n : segments) {
                WalSummary s = actual.get(n);
                Expected e = expected.get(n);
                assertThat(s.isUnsafe()).as("%s: %s", n, s.unsafeReason()).isFalse();
                assertThat(s.records()).as("records starting in %s", n).isEqualTo(e.records);
                assertThat(s.describe()).as("summary of %s", n).containsExactlyElementsOf(e.summary.describe());
                if (s.end().value() > s.segmentStart().value() + SEGMENT) {
                    crossing++;
                }
                for (RelationFork f : s.forks()) {
                    sawSentinel |= f.isSentinel() && s.limit(f) == 0;
                    sawTruncate |= f.fork() == 0 && s.limit(f) > 0 && s.limit(f) != WalSummary.NO_LIMIT;
                    sawDropped |= !f.isSentinel() && s.limit(f) == 0;
                }
            }
            assertThat(crossing).as("segments whose last record crosses into the next one").isGreaterThanOrEqualTo(2);
            assertThat(sawSentinel).as("a whole-database sentinel").isTrue();
            assertThat(sawTruncate).as("a heap truncated by VACUUM").isTrue();
            assertThat(sawDropped).as("a fork created or dropped").isTrue();
            // the 40 MB logical message starts in one segment and ends two segments later (the one between holds no record start)
            assertThat(actual.values()).anyMatch(s -> s.end().value() > s.segmentStart().value() + 2 * SEGMENT);
            System.out.printf("summarized %d segments in %d ms; %d cross their end%n", segments.size(), summarizeMillis, crossing);
        }
    }

    /**
     * The sweep writes each archived segment's summary next to it, write-once: the same summary as the summarizer
     * computes from the spooled segment. A segment whose last record continues into a segment not yet spooled
     * gets its summary when that one is swept; a summary that cannot be written leaves the segment archived and
     * the run says so; {@code rebuild-wal-index} writes the missing ones.
     */
    @Test
    void theSweepWritesSummariesNextToTheSegmentsAndRebuildWritesTheMissingOnes(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        try (PostgresCluster pg = PostgresCluster.start(); Connection c = pg.connect()) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE t (id int, pad text)");
                s.execute("INSERT INTO t SELECT g, repeat('t', 200) FROM generate_series(1, 150000) g"); // about 3 segments
                s.execute("UPDATE t SET pad = 'u' WHERE id BETWEEN 1000 AND 2000");
            }
            List<String> segments = switchAndCollect(pg, c);
            // a copy of each segment, and the summaries computed from the spool before anything is swept
            Path copies = Files.createDirectories(dir.resolve("copies"));
            for (String n : segments) {
                Files.copy(pg.spool().resolve(n), copies.resolve(n));
            }
            Map<String, WalSummary> expected = summarize(copies, segments, 15);
            // a segment whose last record crosses into the next one, and that next one held back from the first sweep
            String crossing = null;
            for (int i = 0; i < segments.size() - 1 && crossing == null; i++) {
                if (expected.get(segments.get(i)).end().value() > expected.get(segments.get(i)).segmentStart().value() + SEGMENT) {
                    crossing = segments.get(i);
                }
            }
            assertThat(crossing).as("a segment whose last record crosses its end").isNotNull();
            String heldBack = segments.get(segments.indexOf(crossing) + 1);
            Path aside = Files.createDirectories(dir.resolve("aside"));
            for (String n : segments.subList(segments.indexOf(heldBack), segments.size())) {
                Files.move(pg.spool().resolve(n), aside.resolve(n));
            }

            Path passfile = pg.writePassfile(dir.resolve("pgpass"), Map.of("postgres", pg.password()));
            Path config = dev.cellar.testing.TestConfig.write(dir, pg, "postgres", passfile, dev.cellar.testing.TestConfig.fileRepository(dir));
            WalArchive archive = new WalArchive(new dev.cellar.storage.LocalStorage(dir.resolve("repo")), "main", 3);
            dev.cellar.testing.CliRun first = dev.cellar.testing.CliRun.run(dir, "--config", config.toString(), "archive-wal", "main");
            assertThat(first.exitCode()).as(first.toString()).isZero();
            assertThat(first.out()).contains("waiting for the next segment (" + crossing + ")");
            WalFileName crossingName = WalFileName.parse(crossing).orElseThrow();
            assertThat(archive.contains(crossingName)).isTrue();
            assertThat(archive.hasSummary(crossingName)).as("deferred: no file yet").isFalse();

            // the deferred summary cannot be completed: the stored copy of its segment is damaged (one byte flipped)
            Path stored = dir.resolve("repo").resolve(archive.pathOf(crossingName));
            byte[] good = Files.readAllBytes(stored);
            byte[] bad = good.clone();
            bad[bad.length / 2] ^= 0x01;
            Files.write(stored, bad);
            for (String n : segments.subList(segments.indexOf(heldBack), segments.size())) {
                Files.move(aside.resolve(n), pg.spool().resolve(n));
            }
            dev.cellar.testing.CliRun second = dev.cellar.testing.CliRun.run(dir, "--config", config.toString(), "archive-wal", "main");
            assertThat(second.exitCode()).as(second.toString()).isEqualTo(3);
            assertThat(second.out()).contains("1 MISSING").contains(crossing + " (");
            for (String n : segments) {
                assertThat(archive.contains(WalFileName.parse(n).orElseThrow())).as("%s archived whatever its summary", n).isTrue();
            }
            assertThat(archive.hasSummary(crossingName)).isFalse();
            assertThat(archive.hasSummary(WalFileName.parse(heldBack).orElseThrow())).isTrue();

            Files.write(stored, good);
            dev.cellar.testing.CliRun rebuild = dev.cellar.testing.CliRun.run(dir, "--config", config.toString(), "rebuild-wal-index", "main");
            assertThat(rebuild.exitCode()).as(rebuild.toString()).isZero();
            assertThat(rebuild.out()).contains("WAL summaries: 1 written, 0 unsafe, 0 missing.");

            for (String n : segments) {
                WalFileName name = WalFileName.parse(n).orElseThrow();
                WalSummary summary = archive.readSummary(name).orElseThrow();
                assertThat(summary.describe()).as(n).isEqualTo(expected.get(n).describe());
                assertThat(summary).as(n).isEqualTo(expected.get(n));
            }
            dev.cellar.testing.CliRun again = dev.cellar.testing.CliRun.run(dir, "--config", config.toString(), "rebuild-wal-index", "main");
            assertThat(again.out()).contains("WAL summaries: 0 written, 0 unsafe, 0 missing.");
        }
    }

    /**
     * PostgreSQL 13 and 17 (zonky binaries; no pg_waldump there): the summaries, merged in WAL order, show what the
     * workload did to the relations it names: every block of a new table modified after its creation (limit 0),
     * a dropped table's forks at limit 0, a new database's sentinel, a heap truncated by VACUUM
     * in a later segment at its new length (the blocks pruned past it forgotten); no summary unsafe.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "PostgreSQL {0}")
    @org.junit.jupiter.params.provider.ValueSource(ints = {13, 17})
    void summariesOfOtherMajorsShowWhatTheWorkloadDid(int major) throws Exception {
        PostgresBinaries bin = PostgresBinaries.zonky(major).orElse(null);
        Assumptions.assumeTrue(bin != null, "zonky's PostgreSQL " + major + " binaries (target/pg-binaries)");
        try (PostgresCluster pg = PostgresCluster.start(PostgresCluster.Spec.defaults().binaries(bin)); Connection c = pg.connect();
             Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t17 (id int, pad text)");
            s.execute("INSERT INTO t17 SELECT g, repeat('x', 100) FROM generate_series(1, 30000) g");
            s.execute("CREATE TABLE gone (n int)");
            s.execute("INSERT INTO gone SELECT generate_series(1, 1000)");
            long gone = longOf(s, "SELECT pg_relation_filenode('gone')");
            s.execute("DROP TABLE gone");
            s.execute("CREATE DATABASE db17");
            long db17 = longOf(s, "SELECT oid FROM pg_database WHERE datname = 'db17'");
            s.execute("SELECT pg_switch_wal()");
            s.execute("DELETE FROM t17 WHERE id > 10000");
            s.execute("VACUUM t17");
            long db = longOf(s, "SELECT oid FROM pg_database WHERE datname = current_database()");
            long t17 = longOf(s, "SELECT pg_relation_filenode('t17')");
            long blocks = longOf(s, "SELECT pg_relation_size('t17') / 8192");
            long peakBlocks = 30000 / 60; // about 60 such rows a page: the table had hundreds of blocks before VACUUM
            List<String> segments = switchAndCollect(pg, c);
            Map<String, WalSummary> summaries = summarize(pg.spool(), segments, major);

            WalSummary merged = new WalSummary(1, major, summaries.values().iterator().next().segmentStart(), SEGMENT);
            for (WalSummary one : summaries.values()) {
                assertThat(one.isUnsafe()).as("%s", one.unsafeReason()).isFalse();
                assertThat(one.pgMajor()).isEqualTo(major);
                for (RelationFork f : one.forks()) {
                    merged.setLimit(f, one.limit(f));
                    for (long b : one.blocks(f)) {
                        merged.markModified(f, b);
                    }
                }
            }
            RelationFork main = new RelationFork(1663, db, t17, 0);
            assertThat(blocks).isBetween(100L, peakBlocks);
            // created: limit 0, which the later truncation does not raise (as PostgreSQL's block reference table)
            assertThat(merged.limit(main)).as("created, then truncated by VACUUM").isZero();
            assertThat(merged.blocks(main)).as("every block written since its creation")
                    .contains(java.util.stream.LongStream.range(0, blocks).toArray()).hasSizeGreaterThan((int) blocks);
            // the segment of the truncation alone: the limit at the new length, and the blocks VACUUM pruned past it forgotten
            WalSummary truncation = summaries.values().stream().filter(x -> x.limit(main) == blocks).findFirst().orElseThrow();
            assertThat(truncation.blocks(main)).isNotEmpty();
            assertThat(java.util.Arrays.stream(truncation.blocks(main)).max().getAsLong()).isLessThan(blocks);
            // dropped at commit: limit 0 on main (already 0 since its creation, so its blocks stay, as PostgreSQL keeps
            // them), and on the visibility-map and init forks, which only the commit record names
            for (int fork : new int[] {0, 2, 3}) {
                assertThat(merged.limit(new RelationFork(1663, db, gone, fork))).as("dropped, fork %d", fork).isZero();
            }
            assertThat(merged.blocks(new RelationFork(1663, db, gone, 2))).isEmpty();
            assertThat(merged.limit(new RelationFork(1663, db, gone, 1))).as("FSM ignored").isEqualTo(WalSummary.NO_LIMIT);
            assertThat(merged.limit(RelationFork.sentinel(1663, db17))).as("CREATE DATABASE").isZero();
        }
    }

    private static long longOf(Statement s, String sql) throws Exception {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    // ---- the oracle: pg_waldump's text, the rules applied here ---------------------------------------------

    private record Expected(WalSummary summary, long records) {
    }

    private static final Pattern LINE = Pattern.compile("^rmgr: (\\S+)\\s+len .*?lsn: ([0-9A-F]+)/([0-9A-F]+), prev \\S+, desc: (.*)$");
    private static final Pattern BLKREF = Pattern.compile("blkref #\\d+: rel (\\d+)/(\\d+)/(\\d+)(?: fork (\\w+))? blk (\\d+)");
    private static final Pattern PATH = Pattern.compile("(?:base/(\\d+)/(\\d+)|global/(\\d+)|pg_tblspc/(\\d+)/[^/]+/(\\d+)/(\\d+))(?:_(fsm|vm|init))?");
    private static final Pattern TRUNCATE = Pattern.compile("^TRUNCATE (\\S+) to (\\d+) blocks flags (\\d+)");
    private static final Pattern DIR = Pattern.compile("(?:dir|to) (\\d+)/(\\d+)");

    private static Map<String, Expected> expectedFromWaldump(String output, List<String> segments) {
        Map<String, WalSummary> summaries = new TreeMap<>();
        Map<String, Long> counts = new TreeMap<>();
        for (String n : segments) {
            WalFileName name = WalFileName.parse(n).orElseThrow();
            summaries.put(n, new WalSummary(1, 15, name.segment().orElseThrow().startLsn(SEGMENT), SEGMENT));
            counts.put(n, 0L);
        }
        for (String line : output.split("\n")) {
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            long lsn = (Long.parseLong(m.group(2), 16) << 32) | Long.parseLong(m.group(3), 16);
            String segment = dev.cellar.postgres.WalSegmentName.ofSegmentNumber(1, lsn / SEGMENT, SEGMENT).toString();
            WalSummary s = summaries.get(segment);
            if (s == null) {
                continue;
            }
            counts.merge(segment, 1L, Long::sum);
            String rmgr = m.group(1);
            String desc = m.group(4);
            int comma = desc.indexOf(", blkref #");
            String text = comma < 0 ? desc : desc.substring(0, comma);
            switch (rmgr) {
                case "Storage": {
                    Matcher t = TRUNCATE.matcher(text);
                    if (t.find()) {
                        RelationFork f = fork(t.group(1));
                        long blocks = Long.parseLong(t.group(2));
                        int flags = Integer.parseInt(t.group(3));
                        if ((flags & 1) != 0) {
                            s.setLimit(f, blocks);
                        }
                        if ((flags & 2) != 0) {
                            s.setLimit(new RelationFork(f.tablespace(), f.database(), f.relation(), 2), blocks / ((8192 - 24) * 4L));
                        }
                    } else if (text.startsWith("CREATE ")) {
                        RelationFork f = fork(text.substring(7).trim());
                        if (f.fork() != 1) {
                            s.setLimit(f, 0);
                        }
                    } else {
                        throw new AssertionError("unexpected storage record: " + line);
                    }
                    break;
                }
                case "Transaction": {
                    int rels = text.indexOf("; rels: ");
                    if ((text.startsWith("COMMIT") || text.startsWith("ABORT")) && rels >= 0) {
                        String list = text.substring(rels + 8).split(";")[0];
                        for (String p : list.trim().split(" ")) {
                            RelationFork f = fork(p);
                            for (int k = 0; k <= 3; k++) {
                                if (k != 1) {
                                    s.setLimit(new RelationFork(f.tablespace(), f.database(), f.relation(), k), 0);
                                }
                            }
                        }
                    }
                    break;
                }
                case "Database": {
                    if (text.startsWith("CREATE") || text.startsWith("DROP")) {
                        Matcher d = DIR.matcher(text.startsWith("CREATE_FILE_COPY") ? text.substring(text.indexOf(" to ")) : text);
                        int found = 0;
                        while (d.find()) {
                            s.setLimit(RelationFork.sentinel(Long.parseLong(d.group(1)), Long.parseLong(d.group(2))), 0);
                            found++;
                        }
                        assertThat(found).as(line).isPositive();
                    }
                    break;
                }
                default:
                    break;
            }
            Matcher b = BLKREF.matcher(desc);
            while (b.find()) {
                String forkName = b.group(4) == null ? "main" : b.group(4);
                int fork = List.of("main", "fsm", "vm", "init").indexOf(forkName);
                if (fork != 1) {
                    s.markModified(new RelationFork(Long.parseLong(b.group(1)), Long.parseLong(b.group(2)), Long.parseLong(b.group(3)), fork),
                            Long.parseLong(b.group(5)));
                }
            }
        }
        Map<String, Expected> out = new TreeMap<>();
        summaries.forEach((n, s) -> out.put(n, new Expected(s, counts.get(n))));
        return out;
    }

    /** A relation path as pg_waldump prints it: base/DB/REL, global/REL, pg_tblspc/SPC/VERSION/DB/REL, with a fork suffix. */
    private static RelationFork fork(String path) {
        Matcher m = PATH.matcher(path);
        if (!m.matches()) {
            throw new AssertionError("not a relation path: " + path);
        }
        int fork = m.group(7) == null ? 0 : List.of("main", "fsm", "vm", "init").indexOf(m.group(7));
        if (m.group(1) != null) {
            return new RelationFork(1663, Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), fork);
        }
        if (m.group(3) != null) {
            return new RelationFork(1664, 0, Long.parseLong(m.group(3)), fork);
        }
        return new RelationFork(Long.parseLong(m.group(4)), Long.parseLong(m.group(5)), Long.parseLong(m.group(6)), fork);
    }
}
