package dev.cellar.repository;

import com.github.luben.zstd.Zstd;
import dev.cellar.config.Compression;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4FastDecompressor;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Compresses and decompresses frames (a run of consecutive blocks of one file), and computes the
 * short checksums the format uses: XXH64 of a block's bytes, and of a frame's stored bytes.
 * Thread-safe.
 */
public final class FrameCodec {

    private static final LZ4Factory LZ4 = LZ4Factory.fastestInstance();
    private static final XXHash64 XXH64 = XXHashFactory.fastestInstance().hash64();
    private static final long SEED = 0;

    private FrameCodec() {
    }

    /** The codec a frame was stored with; its name is what the manifest records. */
    public enum Codec {
        ZSTD("zstd"), LZ4("lz4"), NONE("none");

        public final String id;

        Codec(String id) {
            this.id = id;
        }

        public static Codec of(String id) {
            for (Codec c : values()) {
                if (c.id.equals(id)) {
                    return c;
                }
            }
            throw new RepositoryFormatException("unknown frame codec '" + id + "'");
        }

        public static Codec of(Compression.Algorithm a) {
            return switch (a) {
                case ZSTD -> ZSTD;
                case LZ4 -> LZ4;
                case NONE -> NONE;
            };
        }
    }

    /** The stored form of {@code raw[0..length)}. Compressing many frames, a {@link FrameCompressor} is faster. */
    public static byte[] compress(Compression compression, byte[] raw, int length) {
        try (FrameCompressor c = new FrameCompressor(compression)) {
            return c.compress(raw, length);
        }
    }

    /** Decompresses a frame into exactly {@code rawLength} bytes; a frame that does not decode to that size is corrupt. */
    public static byte[] decompress(Codec codec, byte[] stored, int rawLength) {
        try {
            return switch (codec) {
                case ZSTD -> {
                    byte[] out = new byte[rawLength];
                    long n = Zstd.decompress(out, stored);
                    if (Zstd.isError(n) || n != rawLength) {
                        throw new RepositoryFormatException("zstd frame decodes to " + n + " bytes, expected " + rawLength);
                    }
                    yield out;
                }
                case LZ4 -> {
                    LZ4FastDecompressor d = LZ4.fastDecompressor();
                    byte[] out = new byte[rawLength];
                    int read = d.decompress(stored, 0, out, 0, rawLength);
                    if (read != stored.length) {
                        throw new RepositoryFormatException("lz4 frame has " + stored.length + " bytes, decoded " + read);
                    }
                    yield out;
                }
                case NONE -> {
                    if (stored.length != rawLength) {
                        throw new RepositoryFormatException("stored frame has " + stored.length + " bytes, expected " + rawLength);
                    }
                    yield stored;
                }
            };
        } catch (RepositoryFormatException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new RepositoryFormatException("frame does not decode: " + e.getMessage(), e);
        }
    }

    public static long checksum(byte[] data, int offset, int length) {
        return XXH64.hash(data, offset, length, SEED);
    }
}
