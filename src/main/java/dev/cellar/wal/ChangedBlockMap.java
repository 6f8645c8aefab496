package dev.cellar.wal;

import dev.cellar.postgres.Lsn;
import dev.cellar.wal.WalSummary.RelationFork;
import java.util.BitSet;

/**
 * What the WAL between two LSNs changed, merged from the segments' summaries (docs/design.md 5.7, reading them):
 * per relation fork the smallest length seen (the limit block) and the blocks modified, and the databases created or
 * dropped as a whole. Built by {@link ChangedBlockMapReader}; a WAL-derived incremental reads only what it names.
 */
public final class ChangedBlockMap {

    private final WalSummary merged;
    private final Lsn from;
    private final Lsn to;
    private final int segments;
    private final int summarizedNow;
    private final int damaged;
    private final long millis;

    ChangedBlockMap(WalSummary merged, Lsn from, Lsn to, int segments, int summarizedNow, int damaged, long millis) {
        this.merged = merged;
        this.from = from;
        this.to = to;
        this.segments = segments;
        this.summarizedNow = summarizedNow;
        this.damaged = damaged;
        this.millis = millis;
    }

    /** The fork's limit block, {@link WalSummary#NO_LIMIT} when the WAL never shortened (nor created) it. */
    public long limit(RelationFork fork) {
        return merged.limit(fork);
    }

    /** The fork's modified blocks in {@code [first, first + count)}, as offsets from {@code first}. */
    public BitSet blocks(RelationFork fork, long first, int count) {
        return merged.blocks(fork, first, count);
    }

    /** True when a database directory was created or dropped in the range: its files may have been rewritten without block WAL. */
    public boolean databaseRecreated(long tablespace, long database) {
        return merged.limit(RelationFork.sentinel(tablespace, database)) != WalSummary.NO_LIMIT;
    }

    public Lsn from() {
        return from;
    }

    public Lsn to() {
        return to;
    }

    /** Segments the range spans. */
    public int segments() {
        return segments;
    }

    /** Of those, the ones whose summary was not in the repository and was computed from the segment by the reader. */
    public int summarizedNow() {
        return summarizedNow;
    }

    /** Modified blocks over every fork. */
    public long blockCount() {
        return merged.blockCount();
    }

    @Override
    public String toString() {
        return "WAL " + from + " to " + to + ": " + segments + " segments (" + summarizedNow + " summarized now"
                + (damaged == 0 ? "" : ", " + damaged + " of them for a damaged summary") + "), "
                + blockCount() + " modified blocks, merged in " + String.format(java.util.Locale.ROOT, "%.2f", millis / 1000.0) + " s";
    }
}
