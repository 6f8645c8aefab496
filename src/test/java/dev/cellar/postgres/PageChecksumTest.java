package dev.cellar.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

class PageChecksumTest {

    private static final int BLCKSZ = PageChecksum.BLCKSZ;

    /** A heap-like page: header with pd_lower/pd_upper/pd_special set, random bytes elsewhere, its checksum stored. */
    private static byte[] page(long seed, long blockNumber) {
        byte[] page = new byte[BLCKSZ];
        new Random(seed).nextBytes(page);
        putShort(page, 0, 12, 40);        // pd_lower
        putShort(page, 0, 14, 6000);      // pd_upper
        putShort(page, 0, 16, BLCKSZ);    // pd_special
        putShort(page, 0, 8, PageChecksum.compute(page, 0, blockNumber));
        return page;
    }

    private static void putShort(byte[] b, int offset, int at, int v) {
        b[offset + at] = (byte) v;
        b[offset + at + 1] = (byte) (v >>> 8);
    }

    /** A page whose bytes follow a fixed formula, for known-answer checks. */
    private static byte[] patterned(java.util.function.IntUnaryOperator byteAt) {
        byte[] page = new byte[BLCKSZ];
        for (int k = 0; k < BLCKSZ; k++) {
            page[k] = (byte) byteAt.applyAsInt(k);
        }
        return page;
    }

    @Test
    void knownAnswers() {
        // Values from a C transcription of pg_checksum_page (checksum_impl.h) run on the same bytes, little-endian.
        byte[] a = patterned(k -> k * 31 + 7);
        assertThat(PageChecksum.compute(a, 0, 0)).isEqualTo(51176);
        assertThat(PageChecksum.compute(a, 0, 5)).isEqualTo(51181);
        assertThat(PageChecksum.compute(a, 0, 131072 + 3)).isEqualTo(51177);
        byte[] b = patterned(k -> k * 131 + (k >> 8));
        assertThat(PageChecksum.compute(b, 0, 0)).isEqualTo(27218);
        assertThat(PageChecksum.compute(b, 0, 0xFFFF_FFFEL)).isEqualTo(38318);
    }

    @Test
    void aPageWithItsChecksumVerifiesAndOnlyAtItsOwnBlockNumber() {
        byte[] p = page(1, 42);
        assertThat(PageChecksum.isNew(p, 0)).isFalse();
        assertThat(PageChecksum.verify(p, 0, 42)).isTrue();
        assertThat(PageChecksum.stored(p, 0)).isEqualTo(PageChecksum.compute(p, 0, 42));
        assertThat(PageChecksum.verify(p, 0, 43)).isFalse();
        assertThat(PageChecksum.verify(p, 0, 42 + PageChecksum.RELSEG_SIZE)).isFalse();
    }

    @Test
    void flippingAnyOneByteOutsideTheChecksumFieldIsDetected() {
        byte[] p = page(2, 7);
        int detected = 0;
        int tried = 0;
        for (int at = 0; at < BLCKSZ; at += 37) {
            if (at == 8 || at == 9 || at == 14 || at == 15) {
                continue; // the checksum itself; pd_upper (could make the page look new)
            }
            byte[] copy = p.clone();
            copy[at] ^= 0x01;
            tried++;
            if (!PageChecksum.verify(copy, 0, 7)) {
                detected++;
            }
            assertThat(PageChecksum.compute(copy, 0, 7)).as("checksum after flipping byte %d", at).isNotEqualTo(PageChecksum.compute(p, 0, 7));
        }
        assertThat(detected).isEqualTo(tried);
    }

    @Test
    void theChecksumFieldDoesNotInfluenceTheChecksum() {
        byte[] p = page(3, 0);
        int expected = PageChecksum.compute(p, 0, 0);
        for (int v : new int[] {0, 1, 0xFFFF, 0x1234, expected ^ 0x8000}) {
            byte[] copy = p.clone();
            putShort(copy, 0, 8, v);
            assertThat(PageChecksum.compute(copy, 0, 0)).isEqualTo(expected);
            assertThat(PageChecksum.stored(copy, 0)).isEqualTo(v);
        }
        // but pd_flags, the other half of the same 32-bit word, does
        byte[] flags = p.clone();
        flags[10] ^= 0x04;
        assertThat(PageChecksum.compute(flags, 0, 0)).isNotEqualTo(expected);
    }

    @Test
    void computeLeavesThePageUntouched() {
        byte[] p = page(4, 9);
        byte[] before = p.clone();
        PageChecksum.compute(p, 0, 9);
        PageChecksum.verify(p, 0, 9);
        assertThat(p).isEqualTo(before);
    }

    @Test
    void theChecksumIsAlways1To65535() {
        for (int seed = 0; seed < 500; seed++) {
            byte[] p = page(seed, 0);
            assertThat(PageChecksum.compute(p, 0, seed)).isBetween(1, 65535);
        }
        assertThat(PageChecksum.compute(new byte[BLCKSZ], 0, 0)).isBetween(1, 65535);
    }

    @Test
    void worksAtAnOffsetInALargerBuffer() {
        byte[] p = page(5, 3);
        byte[] buffer = new byte[3 * BLCKSZ + 5];
        new Random(9).nextBytes(buffer);
        System.arraycopy(p, 0, buffer, BLCKSZ + 5, BLCKSZ);
        assertThat(PageChecksum.compute(buffer, BLCKSZ + 5, 3)).isEqualTo(PageChecksum.compute(p, 0, 3));
        assertThat(PageChecksum.verify(buffer, BLCKSZ + 5, 3)).isTrue();
        assertThatThrownBy(() -> PageChecksum.compute(buffer, 2 * BLCKSZ + 6, 0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> PageChecksum.compute(buffer, -1, 0)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> PageChecksum.verify(new byte[BLCKSZ - 1], 0, 0)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void anAllZeroPageVerifies() {
        byte[] zero = new byte[BLCKSZ];
        assertThat(PageChecksum.isNew(zero, 0)).isTrue();
        assertThat(PageChecksum.isAllZero(zero, 0)).isTrue();
        assertThat(PageChecksum.verify(zero, 0, 0)).isTrue();
        assertThat(PageChecksum.verify(zero, 0, 123_456)).isTrue();
    }

    @Test
    void aNewPageWithAnythingNonZeroDoesNotVerify() {
        byte[] garbage = page(6, 0);
        putShort(garbage, 0, 14, 0); // pd_upper = 0: PageIsNew
        assertThat(PageChecksum.isNew(garbage, 0)).isTrue();
        assertThat(PageChecksum.verify(garbage, 0, 0)).isFalse();
        for (int at : new int[] {0, 8, 100, BLCKSZ - 1}) {
            byte[] almost = new byte[BLCKSZ];
            almost[at] = 1;
            assertThat(PageChecksum.verify(almost, 0, 0)).as("new page with byte %d set", at).isFalse();
        }
    }

    @Test
    void blockNumbersCountAcrossSegmentFiles() {
        assertThat(PageChecksum.blockNumber(0, 0)).isZero();
        assertThat(PageChecksum.blockNumber(0, 131_071)).isEqualTo(131_071);
        assertThat(PageChecksum.blockNumber(1, 0)).isEqualTo(131_072);
        assertThat(PageChecksum.blockNumber(3, 17)).isEqualTo(3 * 131_072 + 17);
        // the last segment file of a maximal relation: block 0xFFFFFFFE is the largest valid one
        assertThat(PageChecksum.blockNumber(32_767, 131_070)).isEqualTo(0xFFFF_FFFEL);
        assertThatThrownBy(() -> PageChecksum.blockNumber(32_767, 131_071)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PageChecksum.blockNumber(0, 131_072)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PageChecksum.blockNumber(-1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PageChecksum.blockNumber(0, -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PageChecksum.compute(new byte[BLCKSZ], 0, -1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PageChecksum.compute(new byte[BLCKSZ], 0, 0xFFFF_FFFFL)).isInstanceOf(IllegalArgumentException.class);

        // a page copied into block 5 of the second segment file verifies there and not at block 5 of the first
        long second = PageChecksum.blockNumber(1, 5);
        byte[] p = page(7, second);
        assertThat(PageChecksum.verify(p, 0, second)).isTrue();
        assertThat(PageChecksum.verify(p, 0, PageChecksum.blockNumber(0, 5))).isFalse();
    }
}
