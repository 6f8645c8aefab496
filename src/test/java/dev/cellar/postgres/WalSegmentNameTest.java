package dev.cellar.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class WalSegmentNameTest {

    private static final long MIB_16 = 16L << 20;
    private static final long MIB_64 = 64L << 20;

    @Test
    void theSegmentHoldingALocation() {
        assertThat(WalSegmentName.of(1, Lsn.parse("0/2000028"), MIB_16)).hasToString("000000010000000000000002");
        assertThat(WalSegmentName.of(1, Lsn.parse("1/0"), MIB_16)).hasToString("000000010000000100000000");
        assertThat(WalSegmentName.of(1, Lsn.parse("0/FFFFFFFF"), MIB_16)).hasToString("0000000100000000000000FF");
        assertThat(WalSegmentName.of(3, Lsn.parse("16/B374D848"), MIB_16)).hasToString("0000000300000016000000B3");
        // 64 MiB: 64 segments per log id, so B374D848 is in segment 0x2C (= 0xB374D848 / 0x4000000)
        assertThat(WalSegmentName.of(1, Lsn.parse("16/B374D848"), MIB_64)).hasToString("00000001000000160000002C");
        assertThat(WalSegmentName.of(2, Lsn.parse("0/FFFFFFFF"), MIB_64)).hasToString("00000002000000000000003F");
        // 1 GiB: 4 per log id; 1 MiB: 4096 per log id
        assertThat(WalSegmentName.of(1, Lsn.parse("5/C0000000"), 1L << 30)).hasToString("000000010000000500000003");
        assertThat(WalSegmentName.of(1, Lsn.parse("0/FFFFFFFF"), 1L << 20)).hasToString("000000010000000000000FFF");
    }

    @Test
    void segmentsPerLogId() {
        assertThat(WalSegmentName.segmentsPerXLogId(MIB_16)).isEqualTo(256);
        assertThat(WalSegmentName.segmentsPerXLogId(MIB_64)).isEqualTo(64);
        assertThat(WalSegmentName.segmentsPerXLogId(1L << 20)).isEqualTo(4096);
        assertThat(WalSegmentName.segmentsPerXLogId(1L << 30)).isEqualTo(4);
    }

    @Test
    void parsesAndPrints() {
        WalSegmentName n = WalSegmentName.parse("0000000300000016000000B3");
        assertThat(n.timeline()).isEqualTo(3);
        assertThat(n.log()).isEqualTo(0x16);
        assertThat(n.seg()).isEqualTo(0xB3);
        assertThat(n).hasToString("0000000300000016000000B3");
        assertThat(n.timelineLog()).isEqualTo("0000000300000016");
        assertThat(WalSegmentName.parse("7FFFFFFFFFFFFFFFFFFFFFFF")).hasToString("7FFFFFFFFFFFFFFFFFFFFFFF");
        assertThat(n).isEqualTo(new WalSegmentName(3, 0x16, 0xB3));
    }

    @Test
    void segmentNumberAndStartLocation() {
        WalSegmentName n = WalSegmentName.parse("000000010000000100000000");
        assertThat(n.segmentNumber(MIB_16)).isEqualTo(256);
        assertThat(n.startLsn(MIB_16)).hasToString("1/0");
        assertThat(WalSegmentName.parse("000000010000000000000002").startLsn(MIB_16)).hasToString("0/2000000");
        WalSegmentName b3 = WalSegmentName.parse("0000000300000016000000B3");
        assertThat(b3.startLsn(MIB_16)).hasToString("16/B3000000");
        assertThat(WalSegmentName.of(3, b3.startLsn(MIB_16), MIB_16)).isEqualTo(b3);
        assertThat(WalSegmentName.parse("00000001000000160000002C").startLsn(MIB_64)).hasToString("16/B0000000");
        // a seg id only a smaller segment size can have
        assertThatThrownBy(() -> b3.segmentNumber(MIB_64)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("64 MiB");
        assertThat(WalSegmentName.ofSegmentNumber(1, 256, MIB_16)).isEqualTo(n);
    }

    @Test
    void nextCrossesIntoTheNextLogId() {
        assertThat(WalSegmentName.parse("0000000100000000000000FE").next(MIB_16)).hasToString("0000000100000000000000FF");
        assertThat(WalSegmentName.parse("0000000100000000000000FF").next(MIB_16)).hasToString("000000010000000100000000");
        assertThat(WalSegmentName.parse("00000002000000050000003F").next(MIB_64)).hasToString("000000020000000600000000");
        assertThat(WalSegmentName.parse("00000001000000050000003F").next(MIB_16)).hasToString("000000010000000500000040");
        assertThatThrownBy(() -> WalSegmentName.parse("00000001FFFFFFFF000000FF").next(MIB_16)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void everyLocationOfASegmentMapsBackToIt() {
        for (long size : new long[] {1L << 20, MIB_16, MIB_64, 1L << 30}) {
            WalSegmentName s = WalSegmentName.of(1, Lsn.parse("A/12345678"), size);
            Lsn start = s.startLsn(size);
            assertThat(WalSegmentName.of(1, start, size)).isEqualTo(s);
            assertThat(WalSegmentName.of(1, start.plus(size - 1), size)).isEqualTo(s);
            assertThat(WalSegmentName.of(1, start.plus(size), size)).isEqualTo(s.next(size));
            assertThat(start.offsetInSegment(size)).isZero();
        }
    }

    @Test
    void ordersByTimelineThenLogThenSeg() {
        List<WalSegmentName> names = new ArrayList<>();
        for (String s : List.of("000000020000000000000001", "000000010000000100000000", "0000000100000000000000FF",
                "000000010000000000000002", "0000000A0000000000000000")) {
            names.add(WalSegmentName.parse(s));
        }
        Collections.shuffle(names);
        Collections.sort(names);
        assertThat(names).extracting(WalSegmentName::toString).containsExactly("000000010000000000000002", "0000000100000000000000FF",
                "000000010000000100000000", "000000020000000000000001", "0000000A0000000000000000");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "00000001000000000000002", "0000000100000000000000020", "000000010000000000000002.partial",
            "00000002.history", "000000010000000000000002.00000028.backup", "0000000100000000000000ab", "00000001000000000000000G",
            "000000000000000000000002", "800000000000000000000002", " 00000001000000000000002", "+00000001000000000000002"})
    void rejectsWhatIsNotASegmentName(String name) {
        assertThat(WalSegmentName.isSegmentName(name)).isFalse();
        assertThatThrownBy(() -> WalSegmentName.parse(name)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("\"" + name + "\"")
                .hasMessageContaining("not a WAL segment file name");
    }

    @Test
    void acceptsSegmentNames() {
        assertThat(WalSegmentName.isSegmentName("000000010000000000000002")).isTrue();
        assertThat(WalSegmentName.isSegmentName("7FFFFFFFFFFFFFFFFFFFFFFF")).isTrue();
        assertThat(WalSegmentName.isSegmentName(null)).isFalse();
        assertThatThrownBy(() -> WalSegmentName.parse(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsInvalidComponentsAndSegmentSizes() {
        assertThatThrownBy(() -> new WalSegmentName(0, 0, 0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeline");
        assertThatThrownBy(() -> new WalSegmentName(1, -1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new WalSegmentName(1, 0, 0x1_0000_0000L)).isInstanceOf(IllegalArgumentException.class);
        for (long bad : new long[] {0, 1, 512 * 1024, 3L << 20, 2L << 30, 16_000_000}) {
            assertThatThrownBy(() -> WalSegmentName.of(1, Lsn.ZERO, bad)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("power of two from 1 MiB");
        }
        for (int shift = 20; shift <= 30; shift++) {
            assertThat(WalSegmentName.checkSegmentSize(1L << shift)).isEqualTo(1L << shift);
        }
    }
}
