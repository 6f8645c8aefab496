package dev.cellar.repository;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.luben.zstd.Zstd;
import dev.cellar.config.Compression;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FrameCompressorTest {

    /** Frames of mixed content and sizes, the largest first and last, so the output buffer is grown and reused. */
    private static byte[][] frames() {
        Random random = new Random(7);
        byte[][] frames = new byte[6][];
        int[] sizes = {8192, 1 << 20, 100, 0, 300_000, 1 << 20};
        for (int i = 0; i < sizes.length; i++) {
            byte[] f = new byte[sizes[i]];
            for (int p = 0; p < f.length; p++) {
                // half random, half a repeating pattern: compressible but not trivially
                f[p] = p % 2 == 0 ? (byte) random.nextInt() : (byte) (p % 13 + i);
            }
            frames[i] = f;
        }
        return frames;
    }

    @ParameterizedTest
    @ValueSource(strings = {"zstd:1", "zstd:3", "zstd:19", "lz4", "none"})
    void oneCompressorForManyFramesDecodesEachToItsBytes(String setting) {
        Compression compression = Compression.parse(setting);
        FrameCodec.Codec codec = FrameCodec.Codec.of(compression.algorithm());
        try (FrameCompressor c = new FrameCompressor(compression)) {
            for (byte[] raw : frames()) {
                // a buffer longer than the frame: only the first bytes count
                byte[] buffer = Arrays.copyOf(raw, raw.length + 5000);
                Arrays.fill(buffer, raw.length, buffer.length, (byte) 0x55);
                byte[] stored = c.compress(buffer, raw.length);
                assertThat(FrameCodec.decompress(codec, stored, raw.length)).isEqualTo(raw);
                assertThat(FrameCodec.compress(compression, raw, raw.length)).isEqualTo(stored);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3, 9})
    void zstdFramesAreWhatOneShotCompressionWrites(int level) {
        // Repositories written before the compressor was reused hold frames of Zstd.compress: same format, same bytes.
        try (FrameCompressor c = new FrameCompressor(Compression.parse("zstd:" + level))) {
            for (byte[] raw : frames()) {
                assertThat(c.compress(raw, raw.length)).isEqualTo(Zstd.compress(raw, level));
            }
        }
    }
}
