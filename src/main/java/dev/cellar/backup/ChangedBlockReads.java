package dev.cellar.backup;

import dev.cellar.repository.ManifestEntry;
import dev.cellar.wal.ChangedBlockMap;
import dev.cellar.wal.WalSummary;
import java.util.BitSet;
import java.util.Optional;

/**
 * Which blocks of a file a WAL-derived incremental reads (docs/design.md 5.6), given what the WAL since the parent's
 * start changed. Only the main fork of a relation present in the parent, of a database not created or dropped
 * meanwhile, is read in part: its blocks the WAL modified, its blocks at or past a truncation (the limit block), and
 * its blocks the parent did not hold whole. Every other file is read whole and compared block by block: new paths,
 * non-relation files, the free space map, visibility map and init forks (not fully WAL-logged), files whose size is
 * not a whole number of pages, files truncated below their start, files whose block size changed, and files of which
 * at least {@link #MOSTLY_CHANGED} of the blocks would be read anyway.
 */
public final class ChangedBlockReads {

    /** From this share of a file's blocks on, the file is read whole (the same reads, and its SHA-256 comes with them). */
    static final double MOSTLY_CHANGED = 0.9;

    /** How a file is backed up. */
    public enum Kind {
        /** Read whole, every block compared with the parent's (the block-compare incremental). */
        WHOLE,
        /** Not read: the WAL changed none of its blocks and its size is the parent's. */
        UNCHANGED,
        /** Only the blocks not in {@code unread} are read; the others are the parent's. */
        BLOCKS
    }

    /** @param unread for {@link Kind#BLOCKS} and {@link Kind#UNCHANGED}: the blocks taken from the parent without reading */
    public record Decision(Kind kind, BitSet unread) {
        static final Decision WHOLE = new Decision(Kind.WHOLE, null);
    }

    private final ChangedBlockMap map;

    public ChangedBlockReads(ChangedBlockMap map) {
        this.map = map;
    }

    /**
     * @param size     the file's size as scanned
     * @param inParent the parent's entry of the same path, or null
     */
    public Decision decide(String path, long size, ManifestEntry inParent) {
        Optional<RelationFile> parsed = RelationFile.parse(path);
        if (parsed.isEmpty() || inParent == null || inParent.type() != ManifestEntry.Type.FILE) {
            return Decision.WHOLE;
        }
        RelationFile rel = parsed.get();
        if (rel.fork() != RelationFile.MAIN_FORK || map.databaseRecreated(rel.tablespace(), rel.database())) {
            return Decision.WHOLE;
        }
        int blockSize = BlockSizes.forSize(size);
        if (size % RelationFile.BLOCK != 0 || inParent.size() % RelationFile.BLOCK != 0 || blockSize != inParent.blockSize() || size == 0) {
            return Decision.WHOLE;
        }
        WalSummary.RelationFork fork = rel.relationFork();
        long limit = map.limit(fork);
        if (limit != WalSummary.NO_LIMIT && limit <= rel.firstBlock()) {
            return Decision.WHOLE;
        }
        int pagesPerBlock = blockSize / RelationFile.BLOCK;
        int pages = (int) (size / RelationFile.BLOCK);
        int blockCount = (int) ((size + blockSize - 1) / blockSize);
        BitSet read = new BitSet(blockCount);
        BitSet modified = map.blocks(fork, rel.firstBlock(), pages);
        for (int p = modified.nextSetBit(0); p >= 0; p = modified.nextSetBit(p + 1)) {
            read.set(p / pagesPerBlock);
        }
        if (limit != WalSummary.NO_LIMIT && limit < rel.firstBlock() + pages) {
            read.set((int) ((limit - rel.firstBlock()) / pagesPerBlock), blockCount); // truncated, then grown again
        }
        // The parent's blocks serve only where they have this file's length: never past the parent's end, nor its last
        // block when it was shorter than a whole block (the file grew) or this file's last one is (it shrank).
        int whole = size == inParent.size() ? blockCount : (int) Math.min(size / blockSize, inParent.size() / blockSize);
        read.set(whole, blockCount);
        int reads = read.cardinality();
        if (reads >= MOSTLY_CHANGED * blockCount) {
            return Decision.WHOLE;
        }
        BitSet unread = new BitSet(blockCount);
        unread.set(0, blockCount);
        unread.andNot(read);
        return new Decision(reads == 0 && size == inParent.size() ? Kind.UNCHANGED : Kind.BLOCKS, unread);
    }
}
