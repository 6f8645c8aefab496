package dev.cellar.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LsnTest {

    private static final long MIB_16 = 16L << 20;

    @Test
    void parsesAndPrintsPostgresText() {
        Lsn lsn = Lsn.parse("16/B374D848");
        assertThat(lsn.value()).isEqualTo(0x16_B374D848L);
        assertThat(lsn).hasToString("16/B374D848");
        assertThat(Lsn.parse("0/2000028").value()).isEqualTo(0x2000028L);
        assertThat(Lsn.parse("0/0")).isEqualTo(Lsn.ZERO);
        assertThat(Lsn.ZERO).hasToString("0/0");
        assertThat(Lsn.of(0x1_0000_0000L)).hasToString("1/0");
        assertThat(Lsn.of(-1L)).hasToString("FFFFFFFF/FFFFFFFF");
        assertThat(Lsn.parse("FFFFFFFF/FFFFFFFF").value()).isEqualTo(-1L);
    }

    @Test
    void acceptsLowerCaseAndLeadingZerosLikePgLsnButPrintsCanonically() {
        assertThat(Lsn.parse("16/b374d848")).isEqualTo(Lsn.parse("16/B374D848"));
        assertThat(Lsn.parse("00000000/02000028")).hasToString("0/2000028");
    }

    @Test
    void textRoundTrips() {
        for (long v : new long[] {0, 1, 0xFFFF_FFFFL, 0x1_0000_0000L, 0x7FFF_FFFF_FFFF_FFFFL, Long.MIN_VALUE, -1L, 0x0ABC_0000_0DEFL}) {
            Lsn lsn = Lsn.of(v);
            assertThat(Lsn.parse(lsn.toString())).isEqualTo(lsn);
            assertThat(lsn.toString()).isEqualTo(String.format("%X/%X", v >>> 32, v & 0xFFFF_FFFFL));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "16", "16/", "/B374D848", "16/B374D848/0", "G/0", "0/123456789", "123456789/0", " 0/0", "0/0 ",
            "-1/0", "0x16/B374D848", "16-B374D848", "16 / B374D848"})
    void rejectsAnythingElseNamingTheExpectedForm(String text) {
        assertThatThrownBy(() -> Lsn.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("\"" + text + "\"")
                .hasMessageContaining("X/X in hexadecimal, e.g. 16/B374D848");
    }

    @Test
    void rejectsNull() {
        assertThatThrownBy(() -> Lsn.parse(null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("X/X in hexadecimal");
    }

    @Test
    void comparesUnsigned() {
        List<Lsn> lsns = new ArrayList<>(List.of(Lsn.of(-1L), Lsn.parse("80000000/0"), Lsn.parse("1/0"), Lsn.parse("0/FFFFFFFF"), Lsn.ZERO));
        Collections.shuffle(lsns);
        Collections.sort(lsns);
        assertThat(lsns).extracting(Lsn::toString)
                .containsExactly("0/0", "0/FFFFFFFF", "1/0", "80000000/0", "FFFFFFFF/FFFFFFFF");
        assertThat(Lsn.parse("80000000/0")).isGreaterThan(Lsn.parse("7FFFFFFF/FFFFFFFF"));
    }

    @Test
    void plusCarriesIntoTheHighHalfAndRefusesToWrap() {
        assertThat(Lsn.parse("0/FFFFFFFF").plus(1)).hasToString("1/0");
        assertThat(Lsn.parse("1/0").plus(-1)).hasToString("0/FFFFFFFF");
        assertThat(Lsn.parse("7FFFFFFF/FFFFFFFF").plus(1)).hasToString("80000000/0");
        assertThatThrownBy(() -> Lsn.of(-1L).plus(1)).isInstanceOf(ArithmeticException.class);
        assertThatThrownBy(() -> Lsn.ZERO.plus(-1)).isInstanceOf(ArithmeticException.class);
    }

    @Test
    void segmentNumberAndOffset() {
        Lsn lsn = Lsn.parse("0/2000028");
        assertThat(lsn.segmentNumber(MIB_16)).isEqualTo(2);
        assertThat(lsn.offsetInSegment(MIB_16)).isEqualTo(0x28);
        assertThat(Lsn.parse("1/0").segmentNumber(MIB_16)).isEqualTo(256);
        assertThat(Lsn.parse("16/B374D848").segmentNumber(MIB_16)).isEqualTo(0x16L * 256 + 0xB3);
        assertThat(Lsn.parse("16/B374D848").offsetInSegment(MIB_16)).isEqualTo(0x74D848);
        assertThat(Lsn.parse("16/B374D848").segmentNumber(64L << 20)).isEqualTo(0x16L * 64 + 0xB374D848L / (64L << 20));
        // the very top of the address space still has a positive segment number
        assertThat(Lsn.of(-1L).segmentNumber(1L << 20)).isEqualTo((1L << 44) - 1);
        assertThat(Lsn.of(-1L).offsetInSegment(1L << 20)).isEqualTo((1L << 20) - 1);
    }

    @Test
    void segmentArithmeticRejectsInvalidSegmentSizes() {
        Lsn lsn = Lsn.parse("0/2000028");
        for (long bad : new long[] {0, -1, 512 * 1024, 3L << 20, 2L << 30, 16_000_000}) {
            assertThatThrownBy(() -> lsn.segmentNumber(bad)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("power of two");
            assertThatThrownBy(() -> lsn.offsetInSegment(bad)).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
