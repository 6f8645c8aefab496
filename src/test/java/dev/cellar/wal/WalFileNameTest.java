package dev.cellar.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cellar.postgres.Lsn;
import dev.cellar.postgres.WalSegmentName;
import dev.cellar.wal.WalFileName.Kind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WalFileNameTest {

    private static final long MIB_16 = 16L << 20;

    private static WalFileName parse(String name) {
        return WalFileName.parse(name).orElseThrow(() -> new AssertionError(name + " should parse"));
    }

    @Test
    void aSegment() {
        WalFileName w = parse("00000001000000A2000000FE");
        assertThat(w.kind()).isEqualTo(Kind.SEGMENT);
        assertThat(w.name()).isEqualTo("00000001000000A2000000FE").isEqualTo(w.toString());
        assertThat(w.timeline()).isEqualTo(1);
        assertThat(w.segment()).contains(new WalSegmentName(1, 0xA2, 0xFE));
        assertThat(w.holdsWal()).isTrue();
        assertThat(w.repositoryDirectory()).isEqualTo("00000001000000A2");
        assertThat(w.backupStartLsn(MIB_16)).isEmpty();
    }

    @Test
    void aPartialSegment() {
        WalFileName w = parse("000000010000000000000005.partial");
        assertThat(w.kind()).isEqualTo(Kind.PARTIAL);
        assertThat(w.timeline()).isEqualTo(1);
        assertThat(w.segment()).contains(WalSegmentName.parse("000000010000000000000005"));
        assertThat(w.holdsWal()).isTrue();
        assertThat(w.repositoryDirectory()).isEqualTo("0000000100000000");
    }

    @Test
    void aBackupHistoryFile() {
        WalFileName w = parse("000000030000000B00000002.00000028.backup");
        assertThat(w.kind()).isEqualTo(Kind.BACKUP_HISTORY);
        assertThat(w.timeline()).isEqualTo(3);
        assertThat(w.segment()).contains(WalSegmentName.parse("000000030000000B00000002"));
        assertThat(w.holdsWal()).isFalse();
        assertThat(w.repositoryDirectory()).isEqualTo("000000030000000B");
        assertThat(w.backupStartLsn(MIB_16)).contains(Lsn.parse("B/2000028"));
        // an offset no 1 MiB segment can hold
        assertThatThrownBy(() -> parse("000000010000000000000002.00FFFFFF.backup").backupStartLsn(1L << 20))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("FFFFFF");
    }

    @Test
    void aTimelineHistoryFile() {
        WalFileName w = parse("0000000A.history");
        assertThat(w.kind()).isEqualTo(Kind.TIMELINE_HISTORY);
        assertThat(w.timeline()).isEqualTo(10);
        assertThat(w.segment()).isEmpty();
        assertThat(w.holdsWal()).isFalse();
        assertThat(w.repositoryDirectory()).isEmpty();
        assertThat(w.backupStartLsn(MIB_16)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "",
            "0000000100000000000000",                          // too short
            "0000000100000000000000020",                       // too long
            "00000001000000000000000g",                        // not hex
            "00000001000000000000000a",                        // lower-case hex
            "0000000100000000000000Ab",
            "00000000000000000000000A",                        // timeline 0
            "80000000000000000000000A",                        // timeline beyond 7FFFFFFF
            "FFFFFFFF000000000000000A",
            ".000000010000000000000002.tmp.4711",              // cellar-wal-archive's temporary copy
            "000000010000000000000002.tmp",
            "xlogtemp.4711",                                   // PostgreSQL's own temporary file
            "archive_status",
            "000000010000000000000002.ready",
            "000000010000000000000002.done",
            "000000010000000000000002.partial.tmp",
            "000000010000000000000002.PARTIAL",
            "000000010000000000000002.00000028.backup.tmp",
            "000000010000000000000002.28.backup",              // offset not %08X
            "000000010000000000000002.00000028.Backup",
            "000000010000000000000002.0000002g.backup",
            "000000010000000000000002.backup",
            "00000001.History",
            "0000000a.history",
            "00000000.history",                                // timeline 0
            "80000000.history",
            "0000001.history",
            "000000001.history",
            "00000001.history.tmp",
            "dir/000000010000000000000002",
            " 000000010000000000000002",
            "000000010000000000000002 ",
            "000000010000000000000002\n",
            "backup_label",
            "random.txt"})
    void anythingElseIsNotAWalFileName(String name) {
        assertThat(WalFileName.parse(name)).as(name).isEmpty();
    }

    @Test
    void nullIsNotAWalFileName() {
        assertThat(WalFileName.parse(null)).isEmpty();
    }

    @Test
    void theLargestTimelines() {
        assertThat(parse("7FFFFFFF.history").timeline()).isEqualTo(Integer.MAX_VALUE);
        assertThat(parse("7FFFFFFFFFFFFFFFFFFFFFFF").timeline()).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void equalityIsByName() {
        assertThat(parse("000000010000000000000002")).isEqualTo(parse("000000010000000000000002"))
                .hasSameHashCodeAs(parse("000000010000000000000002"))
                .isNotEqualTo(parse("000000010000000000000002.partial"));
    }

    @Test
    void walOrderAroundAPromotion() {
        // What the archive holds after timeline 1 was promoted in segment 5 to timeline 2, which later was promoted
        // in segment 0x101 (log 1) to timeline 3, with base backups along the way.
        List<String> walOrder = List.of(
                "000000010000000000000004",
                "000000010000000000000004.00000028.backup",
                "000000010000000000000004.00A00000.backup",
                "000000010000000000000005.partial",
                "00000002.history",
                "000000020000000000000005",
                "0000000200000000000000FF",
                "000000020000000100000000",
                "000000020000000100000001.partial",
                "00000003.history",
                "000000030000000100000001",
                "00000003000000010000000A",
                "000000030000000100000010",
                "0000000A.history",
                "0000000A0000000100000010",
                "00000010.history");
        List<WalFileName> names = new ArrayList<>(walOrder.stream().map(WalFileNameTest::parse).toList());
        for (long seed = 0; seed < 20; seed++) {
            Collections.shuffle(names, new Random(seed));
            Collections.sort(names);
            assertThat(names).extracting(WalFileName::name).containsExactlyElementsOf(walOrder);
        }
    }

    @Test
    void aFullSegmentSortsBeforeItsBackupHistoryAndItsPartial() {
        assertThat(parse("000000010000000000000005")).isLessThan(parse("000000010000000000000005.00000028.backup"));
        assertThat(parse("000000010000000000000005.00000028.backup")).isLessThan(parse("000000010000000000000005.partial"));
        assertThat(parse("000000010000000000000005.partial")).isLessThan(parse("000000010000000000000006"));
        assertThat(parse("000000010000000000000005").compareTo(parse("000000010000000000000005"))).isZero();
    }

    @Test
    void segmentsOrderByTimelineThenLogThenSegLikeWalSegmentName() {
        List<String> names = List.of("000000010000000000000009", "00000001000000000000000A", "0000000100000000000000F0",
                "000000010000000100000000", "00000001000000FF00000000", "000000020000000000000000", "0000000F0000000000000001");
        for (int i = 0; i < names.size(); i++) {
            for (int j = 0; j < names.size(); j++) {
                int byFileName = Integer.signum(parse(names.get(i)).compareTo(parse(names.get(j))));
                int bySegment = Integer.signum(WalSegmentName.parse(names.get(i)).compareTo(WalSegmentName.parse(names.get(j))));
                assertThat(byFileName).as("%s vs %s", names.get(i), names.get(j)).isEqualTo(bySegment);
            }
        }
    }
}
