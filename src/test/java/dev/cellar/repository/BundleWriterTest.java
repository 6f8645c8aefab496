package dev.cellar.repository;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.storage.LocalStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a writer holds unpublished (the copy's progress reports it once everything is read) and when it publishes. */
class BundleWriterTest {

    @TempDir
    Path dir;

    @Test
    void appendedBytesAreUnpublishedUntilTheBundleIsWritten() throws Exception {
        BundleWriter writer = new BundleWriter(new LocalStorage(dir), "main", "backups/b/bundles", "e1-0", 3000);
        assertThat(writer.bytesUnpublished()).isZero();
        writer.append(new byte[1000], 8192, FrameCodec.Codec.NONE, "base/5/1", 0, new long[] {1}, 8192);
        writer.append(new byte[1000], 8192, FrameCodec.Codec.NONE, "base/5/1", 1, new long[] {2}, 8192);
        assertThat(writer.bytesUnpublished()).isEqualTo(2000);
        assertThat(writer.bytesPublished()).isZero();
        assertThat(dir.resolve("main/backups/b/bundles/e1-0-000001")).doesNotExist();

        // Reaching the target size publishes the bundle and its index.
        writer.append(new byte[1000], 8192, FrameCodec.Codec.NONE, "base/5/1", 2, new long[] {3}, 8192);
        assertThat(writer.bytesUnpublished()).isZero();
        assertThat(writer.bytesPublished()).isEqualTo(3000);
        assertThat(Files.size(dir.resolve("main/backups/b/bundles/e1-0-000001"))).isEqualTo(3000);
        assertThat(dir.resolve("main/backups/b/bundles/e1-0-000001.idx")).exists();

        writer.append(new byte[500], 8192, FrameCodec.Codec.NONE, "base/5/2", 0, new long[] {4}, 8192);
        assertThat(writer.bytesUnpublished()).isEqualTo(500);
        writer.seal();
        assertThat(writer.bytesUnpublished()).isZero();
        assertThat(writer.bytesPublished()).isEqualTo(3500);
    }
}
