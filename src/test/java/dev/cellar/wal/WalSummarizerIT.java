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
 * and the same number of records per segment. PostgreSQL 17 (zonky binaries, no pg_waldump) is checked against
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
