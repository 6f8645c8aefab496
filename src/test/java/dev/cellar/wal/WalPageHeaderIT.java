package dev.cellar.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cellar.postgres.Lsn;
import dev.cellar.postgres.WalSegmentName;
import dev.cellar.testing.OsProcess;
import dev.cellar.testing.PostgresBinaries;
import dev.cellar.testing.PostgresCluster;
import dev.cellar.wal.WalFileName.Kind;
import dev.cellar.wal.WalValidationException.Reason;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link WalPageHeader} and {@link WalFileName} against WAL that real PostgreSQL clusters archived into the spool
 * through {@code cellar-wal-archive}: the local major, a promotion to a new timeline, and zonky's 13 and 17.
 */
class WalPageHeaderIT {

    private static final Duration ARCHIVED = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    /** What the repository would know of the cluster. */
    record Cluster(String systemIdentifier, int major, long walSegmentSize) {
    }

    @Test
    void everySpooledFileValidatesAndTamperedCopiesDoNot() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            Cluster c = describe(pg);
            pg.execute("CREATE TABLE t (id int, payload text)");
            List<String> switched = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                switched.add(writeAndSwitch(pg, i));
            }
            String backupHistory = takeBaseBackup(pg, c.major());
            awaitSpooled(pg, switched);
            awaitSpooled(pg, List.of(backupHistory));

            List<WalFileName> spooled = validateSpool(pg, c);
            assertThat(spooled).extracting(WalFileName::name).containsAll(switched).contains(backupHistory);
            assertThat(spooled).extracting(WalFileName::kind).contains(Kind.SEGMENT, Kind.BACKUP_HISTORY);
            WalFileName backup = WalFileName.parse(backupHistory).orElseThrow();
            assertThat(spooled).extracting(WalFileName::name).contains(backup.segment().orElseThrow().toString());
            assertThat(backup.repositoryDirectory()).isEqualTo(backupHistory.substring(0, 16));

            WalFileName first = WalFileName.parse(switched.get(0)).orElseThrow();
            Path original = pg.spool().resolve(first.name());
            WalPageHeader h = WalPageHeader.validate(original, first, c.major(), c.systemIdentifier(), c.walSegmentSize());
            assertThat(h.magic()).isEqualTo(WalPageHeader.magicFor(c.major()));
            assertThat(h.blockSize()).isEqualTo(WalPageHeader.XLOG_BLCKSZ);

            // A copy renamed to the next segment's name.
            WalSegmentName next = first.segment().orElseThrow().next(c.walSegmentSize());
            Path renamed = Files.copy(original, dir.resolve(next.toString()));
            WalFileName nextName = WalFileName.parse(next.toString()).orElseThrow();
            assertThatThrownBy(() -> WalPageHeader.validate(renamed, nextName, c.major(), c.systemIdentifier(), c.walSegmentSize()))
                    .isInstanceOfSatisfying(WalValidationException.class, e -> {
                        assertThat(e.reason()).isEqualTo(Reason.WRONG_PAGE_ADDRESS);
                        assertThat(e.getMessage()).startsWith(next + ": page address " + first.segment().orElseThrow().startLsn(c.walSegmentSize()));
                    });

            // A truncated copy: the first half.
            Path truncated = dir.resolve("truncated").resolve(first.name());
            Files.createDirectories(truncated.getParent());
            try (FileChannel in = FileChannel.open(original); FileChannel out = FileChannel.open(truncated, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                in.transferTo(0, c.walSegmentSize() / 2, out);
            }
            assertThatThrownBy(() -> WalPageHeader.validate(truncated, first, c.major(), c.systemIdentifier(), c.walSegmentSize()))
                    .isInstanceOfSatisfying(WalValidationException.class, e -> assertThat(e.reason()).isEqualTo(Reason.WRONG_SIZE));

            // Another cluster's system identifier.
            String other = Long.toUnsignedString(Long.parseUnsignedLong(c.systemIdentifier()) + 1);
            assertThatThrownBy(() -> WalPageHeader.validate(original, first, c.major(), other, c.walSegmentSize()))
                    .isInstanceOfSatisfying(WalValidationException.class, e -> {
                        assertThat(e.reason()).isEqualTo(Reason.WRONG_SYSTEM);
                        assertThat(e.getMessage()).contains(c.systemIdentifier(), other);
                    });

            // Another major: the magic names the real one.
            int otherMajor = c.major() == 13 ? 14 : c.major() - 1;
            assertThatThrownBy(() -> WalPageHeader.validate(original, first, otherMajor, c.systemIdentifier(), c.walSegmentSize()))
                    .isInstanceOfSatisfying(WalValidationException.class, e -> {
                        assertThat(e.reason()).isEqualTo(Reason.BAD_MAGIC);
                        assertThat(e.getMessage()).contains("is PostgreSQL " + c.major() + "'s, expected");
                    });
        }
    }

    /**
     * End of archive recovery: PostgreSQL archives the old timeline's last segment as {@code .partial} and
     * {@code 00000002.history}, and starts timeline 2 with a copy of that segment, whose first page still says
     * timeline 1.
     */
    @Test
    void aPromotionArchivesAPartialSegmentAndAHistoryFile() throws Exception {
        try (PostgresCluster pg = PostgresCluster.start()) {
            Cluster c = describe(pg);
            pg.execute("CREATE TABLE t (id int, payload text)");
            awaitSpooled(pg, List.of(writeAndSwitch(pg, 0)));
            pg.execute("INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 1000) g");

            pg.stop();
            Path signal = Files.writeString(pg.dataDir().resolve("recovery.signal"), "");
            OsProcess.chownToPostgres(signal);
            Files.writeString(pg.dataDir().resolve("postgresql.conf"),
                    "\nrestore_command = 'cp " + pg.spool() + "/%f %p'\n", StandardOpenOption.APPEND);
            pg.startAgain();

            awaitSpooled(pg, List.of("00000002.history"));
            Awaitility.await().atMost(ARCHIVED).until(() -> "f".equals(query(pg, "SELECT pg_is_in_recovery()")));
            // The switch point, from the history file: "1<TAB>0/4000A28<TAB>no recovery target specified"
            String history = Files.readString(pg.spool().resolve("00000002.history")).strip();
            String[] last = history.lines().reduce((a, b) -> b).orElseThrow().split("\t");
            assertThat(last[0]).isEqualTo("1");
            Lsn switchPoint = Lsn.parse(last[1]);
            assertThat(switchPoint.offsetInSegment(c.walSegmentSize())).as("a mid-segment switch point").isNotZero();
            WalSegmentName oldLast = WalSegmentName.of(1, switchPoint, c.walSegmentSize());
            WalSegmentName newFirst = WalSegmentName.of(2, switchPoint, c.walSegmentSize());

            pg.execute("INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 1000) g", "SELECT pg_switch_wal()");
            awaitSpooled(pg, List.of(oldLast + ".partial", newFirst.toString()));

            List<WalFileName> spooled = validateSpool(pg, c);
            assertThat(spooled).extracting(WalFileName::kind).contains(Kind.SEGMENT, Kind.PARTIAL, Kind.TIMELINE_HISTORY);
            // WAL order: the old timeline's partial segment, the new timeline's history, its first segment.
            List<String> names = spooled.stream().map(WalFileName::name).toList();
            assertThat(names.indexOf(oldLast + ".partial")).isLessThan(names.indexOf("00000002.history"));
            assertThat(names.indexOf("00000002.history")).isLessThan(names.indexOf(newFirst.toString()));

            WalFileName historyName = WalFileName.parse("00000002.history").orElseThrow();
            assertThat(historyName.timeline()).isEqualTo(2);
            assertThat(historyName.repositoryDirectory()).isEmpty();

            WalFileName partial = WalFileName.parse(oldLast + ".partial").orElseThrow();
            assertThat(Files.size(pg.spool().resolve(partial.name()))).as(".partial is full-sized").isEqualTo(c.walSegmentSize());
            assertThat(WalPageHeader.validate(pg.spool().resolve(partial.name()), partial, c.major(), c.systemIdentifier(), c.walSegmentSize())
                    .timeline()).isEqualTo(1);

            WalFileName first = WalFileName.parse(newFirst.toString()).orElseThrow();
            WalPageHeader h = WalPageHeader.validate(pg.spool().resolve(first.name()), first, c.major(), c.systemIdentifier(), c.walSegmentSize());
            assertThat(h.timeline()).as("the first page of %s was copied from timeline 1", first).isEqualTo(1);
            assertThat(h.pageLsn()).isEqualTo(newFirst.startLsn(c.walSegmentSize()));
        }
    }

    /** The magic table against the other majors the build fetches (zonky's server binaries). */
    @ParameterizedTest
    @ValueSource(ints = {13, 17})
    void segmentsOfOtherMajorsValidate(int major) throws Exception {
        PostgresBinaries binaries = PostgresBinaries.zonky(major)
                .orElseThrow(() -> new AssertionError("PostgreSQL " + major + " binaries missing from target/pg-binaries; run through mvn verify"));
        try (PostgresCluster pg = PostgresCluster.start(PostgresCluster.Spec.defaults().binaries(binaries))) {
            Cluster c = describe(pg);
            assertThat(c.major()).isEqualTo(major);
            pg.execute("CREATE TABLE t (id int, payload text)");
            List<String> switched = List.of(writeAndSwitch(pg, 0), writeAndSwitch(pg, 1));
            awaitSpooled(pg, switched);

            List<WalFileName> spooled = validateSpool(pg, c);
            assertThat(spooled).extracting(WalFileName::name).containsAll(switched);
            for (String name : switched) {
                WalFileName w = WalFileName.parse(name).orElseThrow();
                WalPageHeader h = WalPageHeader.validate(pg.spool().resolve(name), w, major, c.systemIdentifier(), c.walSegmentSize());
                assertThat(h.magic()).isEqualTo(WalPageHeader.magicFor(major));
                assertThatThrownBy(() -> WalPageHeader.validate(pg.spool().resolve(name), w, 15, c.systemIdentifier(), c.walSegmentSize()))
                        .isInstanceOfSatisfying(WalValidationException.class, e -> assertThat(e.getMessage())
                                .contains("is PostgreSQL " + major + "'s, expected " + String.format("0x%04X", WalPageHeader.magicFor(15)) + " (PostgreSQL 15)"));
            }
        }
    }

    private static Cluster describe(PostgresCluster pg) throws SQLException {
        String sysid = query(pg, "SELECT system_identifier::text FROM pg_control_system()");
        int major = Integer.parseInt(query(pg, "SELECT current_setting('server_version_num')")) / 10000;
        long segmentSize = Long.parseLong(query(pg, "SELECT pg_size_bytes(current_setting('wal_segment_size'))"));
        // pg_settings agrees: wal_segment_size in bytes (unit B) since PostgreSQL 11
        assertThat(query(pg, "SELECT setting || ' ' || unit FROM pg_settings WHERE name = 'wal_segment_size'")).isEqualTo(segmentSize + " B");
        return new Cluster(sysid, major, segmentSize);
    }

    /** Writes some WAL, switches to a new segment, and returns the name of the segment just completed. */
    private static String writeAndSwitch(PostgresCluster pg, int round) throws SQLException {
        pg.execute("INSERT INTO t SELECT g, md5(g::text) FROM generate_series(" + round * 1000 + ", " + (round * 1000 + 999) + ") g");
        return query(pg, "SELECT pg_walfile_name(pg_switch_wal())");
    }

    /** A base backup (start and stop in one session), which writes a backup history file; returns its name. */
    private static String takeBaseBackup(PostgresCluster pg, int major) throws SQLException {
        try (Connection conn = pg.connect(); Statement s = conn.createStatement()) {
            String start = major >= 15 ? "SELECT pg_backup_start('cellar-wal-it', true)" : "SELECT pg_start_backup('cellar-wal-it', true, false)";
            String stop = major >= 15 ? "SELECT lsn FROM pg_backup_stop(true)" : "SELECT lsn FROM pg_stop_backup(false, true)";
            Lsn startLsn;
            try (ResultSet rs = s.executeQuery(start)) {
                rs.next();
                startLsn = Lsn.parse(rs.getString(1));
            }
            try (ResultSet rs = s.executeQuery(stop)) {
                rs.next();
            }
            long segmentSize = Long.parseLong(query(conn, "SELECT pg_size_bytes(current_setting('wal_segment_size'))"));
            int timeline = Integer.parseInt(query(conn, "SELECT timeline_id FROM pg_control_checkpoint()"));
            return WalSegmentName.of(timeline, startLsn, segmentSize) + "." + String.format("%08X", startLsn.offsetInSegment(segmentSize)) + ".backup";
        }
    }

    private static void awaitSpooled(PostgresCluster pg, List<String> names) {
        Awaitility.await().atMost(ARCHIVED).pollInterval(Duration.ofMillis(50)).until(() -> names.stream().allMatch(n -> Files.exists(pg.spool().resolve(n))));
    }

    /**
     * Every file in the spool is a WAL file name (the archive script's hidden temporary files aside), and every
     * segment and partial segment validates; returns them in WAL order.
     */
    private static List<WalFileName> validateSpool(PostgresCluster pg, Cluster c) throws IOException {
        List<WalFileName> names = new ArrayList<>();
        try (Stream<Path> files = Files.list(pg.spool())) {
            for (Path f : files.sorted().toList()) {
                String name = f.getFileName().toString();
                if (name.startsWith(".")) {
                    assertThat(WalFileName.parse(name)).as("temporary file %s", name).isEmpty();
                    continue;
                }
                Optional<WalFileName> w = WalFileName.parse(name);
                assertThat(w).as("spooled %s", name).isPresent();
                if (w.get().holdsWal()) {
                    WalPageHeader h = WalPageHeader.validate(f, w.get(), c.major(), c.systemIdentifier(), c.walSegmentSize());
                    assertThat(h.systemIdentifierText()).isEqualTo(c.systemIdentifier());
                }
                names.add(w.get());
            }
        }
        assertThat(names).isSorted().isNotEmpty();
        return names;
    }

    private static String query(PostgresCluster pg, String sql) throws SQLException {
        try (Connection conn = pg.connect()) {
            return query(conn, sql);
        }
    }

    private static String query(Connection conn, String sql) throws SQLException {
        try (Statement s = conn.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
