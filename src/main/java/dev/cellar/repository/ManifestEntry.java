package dev.cellar.repository;

import java.util.List;

/**
 * One path of a backup. For a file: its size, modification time, mode, the SHA-256 of its whole
 * content, its block size, one XXH64 per block, and the resolved block map (which frame holds
 * each block, whichever backup stored it: a restore never walks a chain).
 *
 * @param path            relative to the data directory; tablespace contents under {@code pg_tblspc/<oid>/}
 * @param mtime           modification time in epoch milliseconds
 * @param mode            POSIX permission bits
 * @param linkTarget      for a symbolic link (tablespaces): where it pointed
 * @param pageFailures    block numbers (pages of the relation) whose data checksum did not verify
 */
public record ManifestEntry(
        String path,
        Type type,
        long size,
        long mtime,
        int mode,
        String sha256,
        int blockSize,
        long[] blockChecksums,
        List<BlockRun> runs,
        String linkTarget,
        List<Long> pageFailures) {

    public enum Type { FILE, DIRECTORY, LINK }

    public static ManifestEntry directory(String path, long mtime, int mode) {
        return new ManifestEntry(path, Type.DIRECTORY, 0, mtime, mode, null, 0, new long[0], List.of(), null, List.of());
    }

    public static ManifestEntry link(String path, String target, long mtime) {
        return new ManifestEntry(path, Type.LINK, 0, mtime, 0777, null, 0, new long[0], List.of(), target, List.of());
    }

    public int blockCount() {
        return blockChecksums.length;
    }

    /** Bytes stored by frames this backup wrote (not those it references in earlier backups). */
    public long storedBytesIn(String backupDir) {
        return runs.stream().filter(r -> r.frame().bundle().startsWith(backupDir))
                .map(BlockRun::frame).distinct().mapToLong(FrameRef::storedLength).sum();
    }
}
