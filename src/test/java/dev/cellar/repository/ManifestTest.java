package dev.cellar.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.Zstd;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Manifest entries without SHA-256 (read in part by a WAL-derived incremental) and the format that announces them. */
class ManifestTest {

    private static final FrameRef FRAME = new FrameRef("backups/b/bundles/e1-0-000001", 0, 100, 8192, FrameCodec.Codec.ZSTD, 42);

    private static ManifestEntry file(String path, String sha256) {
        return new ManifestEntry(path, ManifestEntry.Type.FILE, 8192, 1, 0600, sha256, 8192, new long[] {7},
                List.of(new BlockRun(0, 1, FRAME, 0)), null, List.of());
    }

    private static String header(byte[] encoded) {
        byte[] raw = Zstd.decompress(encoded, (int) Zstd.getFrameContentSize(encoded));
        return new String(raw, StandardCharsets.UTF_8).lines().findFirst().orElseThrow();
    }

    @Test
    void anEntryWithoutSha256RoundTripsAndMakesTheManifestFormat2() {
        Manifest whole = new Manifest("b", List.of(file("base/5/1", "ab".repeat(32))));
        assertThat(header(whole.encode())).contains("\"format\":1");
        Manifest partial = new Manifest("b", List.of(file("base/5/1", "ab".repeat(32)), file("base/5/2", null)));
        byte[] encoded = partial.encode();
        assertThat(header(encoded)).contains("\"format\":2");
        Manifest back = Manifest.decode(encoded);
        assertThat(back.byPath().get("base/5/2").sha256()).isNull();
        assertThat(back.byPath().get("base/5/1").sha256()).isEqualTo("ab".repeat(32));
    }

    @Test
    void aNewerManifestFormatAsksForAnUpgrade() {
        String raw = "{\"format\":3,\"kind\":\"manifest\",\"backup\":\"b\",\"frames\":0,\"entries\":0}\n";
        assertThatThrownBy(() -> Manifest.decode(Zstd.compress(raw.getBytes(StandardCharsets.UTF_8))))
                .isInstanceOf(RepositoryFormatException.class).hasMessageContaining("format 3").hasMessageContaining("upgrade Cellar");
    }
}
