package dev.cellar.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cellar.config.Compression;
import dev.cellar.repository.BundleIndex;
import dev.cellar.repository.BundleWriter;
import dev.cellar.repository.Manifest;
import dev.cellar.repository.ManifestEntry;
import dev.cellar.repository.RepositoryFormatException;
import dev.cellar.repository.StoredFileReader;
import dev.cellar.storage.LocalStorage;
import java.io.ByteArrayOutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The block engine on plain files: full, incremental and restarted backups read back byte for byte. */
class FileBackupTest {

    @TempDir
    Path dir;

    Path data;
    LocalStorage repo;

    @BeforeEach
    void setUp() throws Exception {
        data = Files.createDirectories(dir.resolve("data"));
        repo = new LocalStorage(dir.resolve("repo"));
        Random r = new Random(42);
        byte[] big = new byte[5_000_000];
        r.nextBytes(big);
        Files.write(data.resolve("big"), big);
        byte[] pattern = new byte[20_000_000];
        for (int i = 0; i < pattern.length; i++) {
            pattern[i] = (byte) (i % 251 < 200 ? 'x' : i % 7);
        }
        Files.write(data.resolve("compressible"), pattern);
        Files.writeString(data.resolve("small"), "port = 5432\n");
        Files.write(data.resolve("empty"), new byte[0]);
    }

    private record Result(Map<String, ManifestEntry> entries, FileBackup.Stats stats) {
    }

    private Result backup(String id, BlockSource source, Compression compression) throws Exception {
        BundleWriter bundles = new BundleWriter(repo, "main", "backups/" + id + "/bundles", "w0", 4 << 20);
        FileBackup fb = new FileBackup(compression, bundles, source, null);
        Map<String, ManifestEntry> out = new LinkedHashMap<>();
        for (String name : List.of("big", "compressible", "small", "empty")) {
            Path f = data.resolve(name);
            fb.backup(f, name, -1, Files.getLastModifiedTime(f).toMillis(), 0600).ifPresent(e -> out.put(name, e));
        }
        bundles.seal();
        return new Result(out, fb.stats());
    }

    private void assertReadsBack(Map<String, ManifestEntry> entries) throws Exception {
        StoredFileReader reader = new StoredFileReader(repo, "main");
        for (ManifestEntry e : entries.values()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            reader.copy(e, out);
            assertThat(out.toByteArray()).as(e.path()).isEqualTo(Files.readAllBytes(data.resolve(e.path())));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"zstd", "zstd:9", "lz4", "none"})
    void aFullBackupReadsBackByteForByte(String compression) throws Exception {
        Result full = backup("20261127T010000", BlockSource.none(), Compression.parse(compression));
        assertReadsBack(full.entries());
        assertThat(full.entries().get("big").blockSize()).isEqualTo(16 << 10);
        assertThat(full.entries().get("empty").size()).isZero();
        assertThat(full.stats().bytesRead).isEqualTo(25_000_012L);
        if (!compression.equals("none")) {
            assertThat(full.stats().bytesStored).isLessThan(full.stats().bytesRead / 2);
        }
    }

    @Test
    void framesCompressedOnAPoolAreStoredInFileOrderAndCountedAsRead() throws Exception {
        FrameCompressionPool pool = new FrameCompressionPool(Compression.DEFAULT, 3);
        try {
            BundleWriter bundles = new BundleWriter(repo, "main", "backups/p/bundles", "w0", 4 << 20);
            java.util.concurrent.atomic.LongAdder bytesDone = new java.util.concurrent.atomic.LongAdder();
            FileBackup fb = new FileBackup(Compression.DEFAULT, bundles, BlockSource.none(), null, pool, bytesDone);
            Map<String, ManifestEntry> out = new LinkedHashMap<>();
            long expectedDone = 0;
            for (String name : List.of("big", "compressible", "small", "empty")) {
                fb.backup(data.resolve(name), name, -1, 0, 0600).ifPresent(e -> out.put(name, e));
                expectedDone += Files.size(data.resolve(name));
                assertThat(bytesDone.sum()).as("progress after " + name).isEqualTo(expectedDone);
            }
            bundles.seal();
            assertReadsBack(out);
            // frames of one file were appended in block order
            for (ManifestEntry e : out.values()) {
                long lastOffset = -1;
                String lastBundle = "";
                for (var run : e.runs()) {
                    if (run.frame().bundle().equals(lastBundle)) {
                        assertThat(run.frame().offset()).isGreaterThan(lastOffset);
                    }
                    lastBundle = run.frame().bundle();
                    lastOffset = run.frame().offset();
                }
            }
        } finally {
            pool.close();
        }
    }

    @Test
    void anIncrementalStoresOnlyChangedBlocksAndStillReadsBackWhole() throws Exception {
        Result full = backup("20261127T010000", BlockSource.none(), Compression.DEFAULT);
        try (RandomAccessFile f = new RandomAccessFile(data.resolve("big").toFile(), "rw")) {
            for (long pos : new long[] {100, 2_000_000, 4_999_000}) {
                f.seek(pos);
                f.write(new byte[] {1, 2, 3, 4});
            }
            f.seek(f.length());
            byte[] more = new byte[100_000];
            new Random(1).nextBytes(more);
            f.write(more);
        }
        Result incr = backup("20261127T020000", new BlockSource(full.entries(), BundleIndex.empty()), Compression.DEFAULT);
        assertReadsBack(incr.entries());

        // Three changed 16 KiB blocks, the old partial last block and the appended bytes: well under 200 KB of 25 MB.
        assertThat(incr.stats().bytesStoredRaw).isLessThan(200_000);
        assertThat(incr.stats().bytesReferenced).isGreaterThan(24_000_000);
        // The unchanged compressible file is referenced whole, from the first backup's bundles.
        assertThat(incr.entries().get("compressible").runs()).allSatisfy(r -> assertThat(r.frame().bundle()).startsWith("backups/20261127T010000/"));
        assertThat(incr.entries().get("compressible").storedBytesIn("backups/20261127T020000")).isZero();

        // Deleting the newer backup's bundles must not break the older one: it never references later ones.
        assertReadsBack(full.entries().entrySet().stream().filter(e -> !e.getKey().equals("big"))
                .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)));
    }

    @Test
    void aRestartedBackupReusesEveryFrameTheFailedAttemptPublished() throws Exception {
        Result failedAttempt = backup("20261127T030000", BlockSource.none(), Compression.DEFAULT);
        long written = failedAttempt.stats().bytesStored;
        BundleIndex published = BundleIndex.read(repo, "main", "backups/20261127T030000/bundles");
        assertThat(published.bundles()).isGreaterThan(0);

        BundleWriter second = new BundleWriter(repo, "main", "backups/20261127T030000/bundles", "w1", 4 << 20);
        FileBackup fb = new FileBackup(Compression.DEFAULT, second, new BlockSource(Map.of(), published), null);
        Map<String, ManifestEntry> entries = new LinkedHashMap<>();
        for (String name : List.of("big", "compressible", "small", "empty")) {
            Path f = data.resolve(name);
            fb.backup(f, name, -1, 0, 0600).ifPresent(e -> entries.put(name, e));
        }
        second.seal();
        assertThat(written).isPositive();
        assertThat(fb.stats().bytesStored).isZero();
        assertThat(second.bytesPublished()).isZero();
        assertReadsBack(entries);
    }

    @Test
    void theManifestRoundTripsEveryField() throws Exception {
        Result full = backup("20261127T010000", BlockSource.none(), Compression.DEFAULT);
        List<ManifestEntry> entries = new ArrayList<>(full.entries().values());
        entries.add(ManifestEntry.directory("pg_wal", 1000, 0700));
        entries.add(ManifestEntry.link("pg_tblspc/16400", "/srv/tblspc", 2000));
        Manifest m = new Manifest("20261127T010000", entries);
        Manifest back = Manifest.decode(m.encode());
        assertThat(back.backupId()).isEqualTo("20261127T010000");
        assertThat(back.entries()).hasSize(6);
        for (int i = 0; i < entries.size(); i++) {
            ManifestEntry a = entries.get(i);
            ManifestEntry b = back.entries().get(i);
            assertThat(b).usingRecursiveComparison().isEqualTo(a);
        }
        assertReadsBack(Map.of("big", back.entry("big"), "small", back.entry("small")));
    }

    @Test
    void aDamagedBundleFailsTheReadNamingTheFile() throws Exception {
        Result full = backup("20261127T010000", BlockSource.none(), Compression.DEFAULT);
        ManifestEntry big = full.entries().get("big");
        Path bundle = dir.resolve("repo/main").resolve(big.runs().get(0).frame().bundle());
        byte[] bytes = Files.readAllBytes(bundle);
        bytes[(int) big.runs().get(0).frame().offset() + 10] ^= 0x40;
        Files.write(bundle, bytes);
        assertThatThrownBy(() -> new StoredFileReader(repo, "main").copy(big, new ByteArrayOutputStream()))
                .isInstanceOf(RepositoryFormatException.class)
                .hasMessageStartingWith("big: frame at backups/20261127T010000/bundles/w0-")
                .hasMessageContaining("does not match its checksum (the bundle is damaged)");
    }

    @Test
    void aTruncatedBundleFailsTheReadNamingTheFile() throws Exception {
        Result full = backup("20261127T010000", BlockSource.none(), Compression.DEFAULT);
        ManifestEntry compressible = full.entries().get("compressible");
        var last = compressible.runs().get(compressible.runs().size() - 1).frame();
        Path bundle = dir.resolve("repo/main").resolve(last.bundle());
        try (RandomAccessFile f = new RandomAccessFile(bundle.toFile(), "rw")) {
            f.setLength(last.offset() + 5);
        }
        assertThatThrownBy(() -> new StoredFileReader(repo, "main").copy(compressible, new ByteArrayOutputStream()))
                .isInstanceOf(RepositoryFormatException.class)
                .hasMessageStartingWith("compressible: bundle " + last.bundle() + " is truncated");
    }

    @Test
    void aVanishedFileIsSkipped() throws Exception {
        BundleWriter bundles = new BundleWriter(repo, "main", "backups/x/bundles", "w0", 4 << 20);
        assertThat(new FileBackup(Compression.DEFAULT, bundles, BlockSource.none(), null)
                .backup(data.resolve("dropped-relation"), "base/1/16384", 0, 0, 0600)).isEmpty();
    }

    @Test
    void blockSizesScaleWithFileSize() {
        assertThat(BlockSizes.forSize(0)).isEqualTo(8192);
        assertThat(BlockSizes.forSize(1 << 20)).isEqualTo(8192);
        assertThat(BlockSizes.forSize(16L << 20)).isEqualTo(16384);
        assertThat(BlockSizes.forSize(100L << 20)).isEqualTo(32768);
        assertThat(BlockSizes.forSize(1L << 30)).isEqualTo(131072);
    }
}
