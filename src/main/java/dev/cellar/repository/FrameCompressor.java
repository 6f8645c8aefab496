package dev.cellar.repository;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import dev.cellar.config.Compression;
import java.util.Arrays;
import net.jpountz.lz4.LZ4Compressor;
import net.jpountz.lz4.LZ4Factory;

/**
 * Compresses frames one after another with one reusable compression context and output buffer. Creating a zstd
 * context for every frame (what {@link Zstd#compress(byte[], int)} does) allocates and clears its tables each time:
 * reusing one compresses 1 MiB frames of relation data about twice as fast. Produces the same frames as
 * {@link FrameCodec#compress}.
 *
 * <p>Not thread-safe: one per thread. Holds native memory until {@link #close()}.
 */
public final class FrameCompressor implements AutoCloseable {

    private final Compression compression;
    private final ZstdCompressCtx zstd;
    private final LZ4Compressor lz4;
    private byte[] out = new byte[0];

    public FrameCompressor(Compression compression) {
        this.compression = compression;
        switch (compression.algorithm()) {
            case ZSTD -> {
                zstd = new ZstdCompressCtx().setLevel(compression.level());
                lz4 = null;
            }
            case LZ4 -> {
                zstd = null;
                lz4 = LZ4Factory.fastestInstance().fastCompressor();
            }
            default -> {
                zstd = null;
                lz4 = null;
            }
        }
    }

    public Compression compression() {
        return compression;
    }

    /** The stored form of {@code raw[0..length)}: a new array of exactly the compressed length. */
    public byte[] compress(byte[] raw, int length) {
        switch (compression.algorithm()) {
            case ZSTD -> {
                ensureOut((int) Zstd.compressBound(length));
                int n = zstd.compressByteArray(out, 0, out.length, raw, 0, length);
                return Arrays.copyOf(out, n);
            }
            case LZ4 -> {
                ensureOut(lz4.maxCompressedLength(length));
                int n = lz4.compress(raw, 0, length, out, 0, out.length);
                return Arrays.copyOf(out, n);
            }
            default -> {
                return Arrays.copyOf(raw, length);
            }
        }
    }

    private void ensureOut(int bound) {
        if (out.length < bound) {
            out = new byte[bound];
        }
    }

    @Override
    public void close() {
        if (zstd != null) {
            zstd.close();
        }
    }
}
