package dev.cellar.postgres;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * PostgreSQL's data page checksum ({@code pg_checksum_page} in {@code src/include/storage/checksum_impl.h}),
 * for 8 KiB pages as written by a little-endian server (x86-64, AArch64).
 *
 * <p>The page is read as 2048 little-endian 32-bit words in 64 rows of 32 columns; each column is folded into its
 * own FNV-1a-like sum ({@code h = (h ^ v) * 16777619 ^ ((h ^ v) >>> 17)}) starting from a fixed base offset, then
 * mixed with two rounds of zero. The 32 sums are XOR-ed together, XOR-ed with the block number (counted from the
 * start of the relation fork, across its 1 GiB segment files), reduced modulo 65535 and offset by one. The page's
 * own {@code pd_checksum} field (bytes 8-9) counts as zero.
 */
public final class PageChecksum {

    /** The page size this implementation supports ({@code BLCKSZ}, the default build). */
    public static final int BLCKSZ = 8192;

    /** Blocks per relation segment file ({@code RELSEG_SIZE}: 1 GiB of 8 KiB blocks, the default build). */
    public static final int RELSEG_SIZE = 131072;

    /** The largest valid block number ({@code MaxBlockNumber}; {@code 0xFFFFFFFF} is {@code InvalidBlockNumber}). */
    public static final long MAX_BLOCK_NUMBER = 0xFFFF_FFFEL;

    private static final int N_SUMS = 32;
    private static final int ROWS = BLCKSZ / (4 * N_SUMS);
    private static final int FNV_PRIME = 16777619;

    /** The base offsets of the 32 partial sums ({@code checksumBaseOffsets[N_SUMS]}). */
    private static final int[] BASE_OFFSETS = {
        0x5B1F36E9, 0xB8525960, 0x02AB50AA, 0x1DE66D2A,
        0x79FF467A, 0x9BB9F8A3, 0x217E7CD2, 0x83E13D2C,
        0xF8D4474F, 0xE39EB970, 0x42C6AE16, 0x993216FA,
        0x7B093B5D, 0x98DAFF3C, 0xF718902A, 0x0B1C9CDB,
        0xE58F764B, 0x187636BC, 0x5D7B3BB1, 0xE73DE7DE,
        0x92BEC979, 0xCCA6C0B2, 0x304A0979, 0x85AA43D4,
        0x783125BB, 0x6CA8EAA2, 0xE407EAC6, 0x4B5CFC3E,
        0x9FBF8C76, 0x15CA20BE, 0xF2CA9FD3, 0x959BD756,
    };

    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle SHORT_LE = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** Offsets of header fields within a page ({@code PageHeaderData}). */
    private static final int PD_CHECKSUM = 8;
    private static final int PD_UPPER = 14;

    static {
        if (BASE_OFFSETS.length != N_SUMS) {
            throw new ExceptionInInitializerError("checksum base offset table must have " + N_SUMS + " entries");
        }
    }

    private PageChecksum() {
    }

    /**
     * The checksum PostgreSQL would store in the 8 KiB page at {@code page[offset]}, which is block
     * {@code blockNumber} of its relation fork (see {@link #blockNumber}). Always 1 to 65535. The array is not modified.
     */
    public static int compute(byte[] page, int offset, long blockNumber) {
        checkPage(page, offset);
        if (blockNumber < 0 || blockNumber > MAX_BLOCK_NUMBER) {
            throw new IllegalArgumentException("block number out of range (0 to " + MAX_BLOCK_NUMBER + "): " + blockNumber);
        }
        // The 32 columns are independent, so they are summed four at a time in locals: no allocation,
        // and four multiplication chains in flight at once.
        int result = 0;
        for (int j = 0; j < N_SUMS; j += 4) {
            int s0 = BASE_OFFSETS[j];
            int s1 = BASE_OFFSETS[j + 1];
            int s2 = BASE_OFFSETS[j + 2];
            int s3 = BASE_OFFSETS[j + 3];
            int p = offset + 4 * j;
            for (int i = 0; i < ROWS; i++, p += 4 * N_SUMS) {
                int v0 = (int) INT_LE.get(page, p);
                int v1 = (int) INT_LE.get(page, p + 4);
                int v2 = (int) INT_LE.get(page, p + 8);
                int v3 = (int) INT_LE.get(page, p + 12);
                if (i == 0 && j == 0) {
                    // word 2 holds pd_checksum (low half, bytes 8-9) and pd_flags (high half): the checksum counts as zero
                    v2 &= 0xFFFF_0000;
                }
                s0 = comp(s0, v0);
                s1 = comp(s1, v1);
                s2 = comp(s2, v2);
                s3 = comp(s3, v3);
            }
            // two rounds of zeroes for additional mixing
            s0 = comp(comp(s0, 0), 0);
            s1 = comp(comp(s1, 0), 0);
            s2 = comp(comp(s2, 0), 0);
            s3 = comp(comp(s3, 0), 0);
            result ^= s0 ^ s1 ^ s2 ^ s3;
        }
        result ^= (int) blockNumber;
        return (int) (Integer.toUnsignedLong(result) % 65535) + 1;
    }

    /** One round: {@code CHECKSUM_COMP(checksum, value)}. */
    private static int comp(int checksum, int value) {
        int tmp = checksum ^ value;
        return tmp * FNV_PRIME ^ (tmp >>> 17);
    }

    /** The checksum stored in the page ({@code pd_checksum}, an unsigned 16-bit field at byte 8). */
    public static int stored(byte[] page, int offset) {
        checkPage(page, offset);
        return Short.toUnsignedInt((short) SHORT_LE.get(page, offset + PD_CHECKSUM));
    }

    /** Whether the page is uninitialised ({@code PageIsNew}: {@code pd_upper == 0}); such pages carry no checksum. */
    public static boolean isNew(byte[] page, int offset) {
        checkPage(page, offset);
        return (short) SHORT_LE.get(page, offset + PD_UPPER) == 0;
    }

    /**
     * Whether the page passes PostgreSQL's checksum test ({@code PageIsVerified}): an uninitialised page only when it is
     * entirely zero (a relation extended just before a crash), any other page only when its stored checksum is right.
     * (PostgreSQL also checks that the header's pointers are sane; that is not a checksum matter and is not done here.)
     */
    public static boolean verify(byte[] page, int offset, long blockNumber) {
        if (isNew(page, offset)) {
            return isAllZero(page, offset);
        }
        return compute(page, offset, blockNumber) == stored(page, offset);
    }

    /** Whether all 8192 bytes of the page are zero. */
    public static boolean isAllZero(byte[] page, int offset) {
        checkPage(page, offset);
        for (int p = offset, end = offset + BLCKSZ; p < end; p += 8) {
            if ((long) LONG_LE.get(page, p) != 0L) {
                return false;
            }
        }
        return true;
    }

    /**
     * The block number within the whole relation fork of block {@code blockInSegment} of segment file
     * {@code segmentFileNumber} (0 for {@code 16384}, 1 for {@code 16384.1}, ...): the number the checksum mixes in.
     */
    public static long blockNumber(int segmentFileNumber, long blockInSegment) {
        if (segmentFileNumber < 0) {
            throw new IllegalArgumentException("segment file number must not be negative: " + segmentFileNumber);
        }
        if (blockInSegment < 0 || blockInSegment >= RELSEG_SIZE) {
            throw new IllegalArgumentException("block in segment file out of range (0 to " + (RELSEG_SIZE - 1) + "): " + blockInSegment);
        }
        long block = (long) segmentFileNumber * RELSEG_SIZE + blockInSegment;
        if (block > MAX_BLOCK_NUMBER) {
            throw new IllegalArgumentException("block " + blockInSegment + " of segment file " + segmentFileNumber
                    + " is beyond the largest block number " + MAX_BLOCK_NUMBER);
        }
        return block;
    }

    private static void checkPage(byte[] page, int offset) {
        if (offset < 0 || offset > page.length - BLCKSZ) {
            throw new IndexOutOfBoundsException("no " + BLCKSZ + "-byte page at offset " + offset + " of a " + page.length + "-byte array");
        }
    }
}
