package dev.cellar.backup;

import dev.cellar.repository.BundleIndex;
import dev.cellar.repository.ManifestEntry;
import dev.cellar.repository.StoredBlock;
import java.util.Map;
import java.util.Optional;

/**
 * Where a block's bytes may already be stored, so a backup references them instead of storing
 * them again: the parent backup's resolved block map (an incremental), and the bundles a failed
 * attempt of this same backup already published (a restart).
 */
public final class BlockSource {

    private final Map<String, ManifestEntry> parent;
    private final BundleIndex stored;

    public BlockSource(Map<String, ManifestEntry> parent, BundleIndex stored) {
        this.parent = parent;
        this.stored = stored;
    }

    public static BlockSource none() {
        return new BlockSource(Map.of(), BundleIndex.empty());
    }

    public ManifestEntry parentEntry(String path) {
        return parent.get(path);
    }

    public Optional<StoredBlock> find(String path, int block, long checksum, int length) {
        ManifestEntry p = parent.get(path);
        if (p != null && p.type() == ManifestEntry.Type.FILE && block < p.blockCount() && p.blockChecksums()[block] == checksum) {
            int parentLength = (int) Math.min(p.blockSize(), p.size() - (long) block * p.blockSize());
            if (p.blockSize() > 0 && parentLength == length) {
                return Optional.of(locate(p, block, length));
            }
        }
        return stored.find(path, block, checksum, length);
    }

    /** Where the parent stores a block of a path it holds (the caller checked it does, with this length). */
    public StoredBlock parentBlock(String path, int block, int length) {
        return locate(parent.get(path), block, length);
    }

    /** The run holding a block: runs are sorted by first block and contiguous, so a binary search (this is called per block). */
    private static StoredBlock locate(ManifestEntry e, int block, int length) {
        var runs = e.runs();
        int lo = 0;
        int hi = runs.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            var run = runs.get(mid);
            if (block < run.firstBlock()) {
                hi = mid - 1;
            } else if (block >= run.endBlock()) {
                lo = mid + 1;
            } else {
                return new StoredBlock(run.frame(), run.frameBlock() + (block - run.firstBlock()), length);
            }
        }
        throw new IllegalStateException(e.path() + ": block " + block + " has no run in the parent manifest");
    }
}
