package dev.cellar.backup;

/**
 * The block size of a file, scaled with its size as pgBackRest scales it: small files in small
 * blocks (so an incremental stores little), large files in larger ones (so the manifest stays
 * small: a 1 GiB relation segment has 8,192 blocks of 128 KiB).
 */
public final class BlockSizes {

    private BlockSizes() {
    }

    public static int forSize(long size) {
        if (size <= 1L << 20) {
            return 8 << 10;
        }
        if (size <= 16L << 20) {
            return 16 << 10;
        }
        if (size <= 128L << 20) {
            return 32 << 10;
        }
        if (size <= 512L << 20) {
            return 64 << 10;
        }
        return 128 << 10;
    }
}
