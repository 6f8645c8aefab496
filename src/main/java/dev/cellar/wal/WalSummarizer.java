package dev.cellar.wal;

import static dev.cellar.wal.WalRecordReader.RM_DBASE_ID;
import static dev.cellar.wal.WalRecordReader.RM_SMGR_ID;
import static dev.cellar.wal.WalRecordReader.RM_XACT_ID;
import static dev.cellar.wal.WalRecordReader.RM_XLOG_ID;

import dev.cellar.postgres.Lsn;
import dev.cellar.wal.WalRecordReader.BlockRef;
import dev.cellar.wal.WalRecordReader.Record;
import dev.cellar.wal.WalSummary.RelationFork;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Summarizes one WAL segment (docs/design.md 5.7): every record whose start lies in the segment, the one crossing
 * its end included, following PostgreSQL 17's WAL summarizer rules:
 * <ul>
 *   <li>each block reference marks its block modified, except in the free space map (not fully WAL-logged);</li>
 *   <li>{@code XLOG_SMGR_CREATE}: limit 0 for the created fork (not the FSM);</li>
 *   <li>{@code XLOG_SMGR_TRUNCATE}: the main fork's limit at the new length; the visibility map's at the map
 *       page holding the new length's bit (PostgreSQL uses the heap length there; the map page is smaller, so
 *       this is the stricter limit);</li>
 *   <li>commit and abort (of a transaction or a prepared one) dropping relations: limit 0 for their main,
 *       visibility-map and init forks;</li>
 *   <li>database create (both strategies) and drop: the whole-database sentinel (tablespace, database, 0, main)
 *       with limit 0, per tablespace for a drop;</li>
 *   <li>unsafe: {@code wal_level=minimal} seen in a parameter change (13 to 18), a shutdown checkpoint, a redo
 *       marker or an end-of-recovery record (17 and later, which carry it); a record with
 *       {@code XLR_SPECIAL_REL_UPDATE} of a kind not handled above; a record whose headers do not decode; WAL
 *       that ends inside the segment other than at a switch record.</li>
 * </ul>
 */
public final class WalSummarizer {

    private static final int FSM_FORK = 1;
    private static final int VM_FORK = 2;
    private static final int MAX_FORK = 3;

    private static final int XLOG_CHECKPOINT_SHUTDOWN = 0x00;
    private static final int XLOG_PARAMETER_CHANGE = 0x60;
    private static final int XLOG_END_OF_RECOVERY = 0x90;
    private static final int XLOG_CHECKPOINT_REDO = 0xE0;
    private static final int WAL_LEVEL_MINIMAL = 0;

    private static final int XLOG_SMGR_CREATE = 0x10;
    private static final int XLOG_SMGR_TRUNCATE = 0x20;
    private static final int SMGR_TRUNCATE_HEAP = 0x01;
    private static final int SMGR_TRUNCATE_VM = 0x02;
    /** Heap blocks per visibility-map page: (8192 - MAXALIGN(24)) bytes of 4 two-bit entries. */
    private static final long HEAP_BLOCKS_PER_VM_PAGE = (8192 - 24) * 4L;

    private static final int XLOG_XACT_HAS_INFO = 0x80;
    private static final int XACT_XINFO_HAS_DBINFO = 1;
    private static final int XACT_XINFO_HAS_SUBXACTS = 1 << 1;
    private static final int XACT_XINFO_HAS_RELFILELOCATORS = 1 << 2;

    /** The summary, or why there is none yet. */
    public record Result(WalSummary summary, String incomplete) {
        public boolean isComplete() {
            return summary != null;
        }
    }

    private WalSummarizer() {
    }

    /**
     * Summarizes a full segment.
     *
     * @param name    the segment's name (a {@link WalFileName.Kind#SEGMENT})
     * @param segment its whole content
     * @param next    the following segments of its timeline, for a record that crosses its end
     * @return the summary, or none when the record crossing the segment's end continues into a segment
     *         {@code next} does not have (or could not read)
     */
    public static Result summarize(WalFileName name, byte[] segment, int pgMajor, WalRecordReader.Continuation next) throws IOException {
        Lsn start = name.segment().orElseThrow(() -> new IllegalArgumentException(name + " is not a segment")).startLsn(segment.length);
        WalRecordReader.Segment read = WalRecordReader.read(segment, start, pgMajor, next);
        if (read.end() == WalRecordReader.End.NEEDS_NEXT) {
            return new Result(null, read.detail());
        }
        WalSummary s = new WalSummary(name.timeline(), pgMajor, start, segment.length);
        for (Record r : read.records()) {
            add(s, r, pgMajor);
        }
        if (read.end() == WalRecordReader.End.SWITCH) {
            s.endAt(start.plus(segment.length));
        } else if (read.end() == WalRecordReader.End.END_OF_WAL) {
            s.markUnsafe("WAL ends inside the segment: " + read.detail());
        }
        return new Result(s, null);
    }

    /**
     * Summarizes the records of a segment that start before {@code until}, which lies in it: the segment a backup
     * starts in, read from {@code pg_wal} while the server writes its end; {@code segment} may be its first bytes only. Complete only when the record starting at
     * or after {@code until} was decoded too (the WAL before it is then whole); the WAL after {@code until} is not
     * looked at otherwise, so a segment still being written is no reason for an unsafe summary.
     */
    public static Result summarizeBefore(WalFileName name, byte[] segment, long segmentSize, int pgMajor, WalRecordReader.Continuation next,
                                         Lsn until) throws IOException {
        Lsn start = name.segment().orElseThrow(() -> new IllegalArgumentException(name + " is not a segment")).startLsn(segmentSize);
        WalRecordReader.Segment read = WalRecordReader.read(segment, start, pgMajor, next);
        WalSummary s = new WalSummary(name.timeline(), pgMajor, start, segmentSize);
        boolean reached = false;
        for (Record r : read.records()) {
            if (r.lsn().compareTo(until) >= 0) {
                reached = true;
                break;
            }
            add(s, r, pgMajor);
        }
        if (!reached) {
            return new Result(null, "the WAL of " + name.name() + " was not readable up to " + until
                    + (read.detail() == null ? "" : " (" + read.detail() + ")"));
        }
        return new Result(s, null);
    }

    /** Where the summarizer finds a segment by name: the first {@code bytes} bytes (or all), or null when it has none. */
    @FunctionalInterface
    public interface SegmentSource {
        byte[] head(WalFileName segment, int bytes) throws IOException;
    }

    /** The segments following {@code name} on its timeline, looked up in {@code source}. */
    public static WalRecordReader.Continuation following(WalFileName name, long segmentSize, SegmentSource source) {
        long number = name.segment().orElseThrow().segmentNumber(segmentSize);
        return (k, bytes) -> {
            String next = dev.cellar.postgres.WalSegmentName.ofSegmentNumber(name.timeline(), number + k, segmentSize).toString();
            return source.head(WalFileName.parse(next).orElseThrow(), bytes);
        };
    }

    /** Reads the first {@code bytes} bytes of a file, or null when it does not exist. */
    public static byte[] headOf(java.nio.file.Path file, int bytes) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
            ByteBuffer b = ByteBuffer.allocate((int) Math.min(bytes, ch.size()));
            while (b.hasRemaining() && ch.read(b) >= 0) {
                // fill
            }
            return b.position() == b.capacity() ? b.array() : java.util.Arrays.copyOf(b.array(), b.position());
        } catch (java.nio.file.NoSuchFileException e) {
            return null;
        }
    }

    /** Applies one record to the summary, in WAL order. */
    static void add(WalSummary s, Record r, int pgMajor) {
        s.recordSeen(r.end());
        if (r.problem() != null) {
            s.markUnsafe(r.problem());
            return;
        }
        int info = r.info() & 0xF0;
        try {
            switch (r.rmid()) {
                case RM_XLOG_ID:
                    xlog(s, r, info, main(r), pgMajor);
                    break;
                case RM_XACT_ID:
                    xact(s, r, main(r));
                    break;
                case RM_SMGR_ID:
                    smgr(s, r, info, main(r));
                    break;
                case RM_DBASE_ID:
                    dbase(s, r, info, main(r), pgMajor);
                    break;
                default:
                    if (r.isSpecialRelUpdate()) {
                        s.markUnsafe("record at " + r.lsn() + " of resource manager " + r.rmid() + " (info 0x" + Integer.toHexString(r.info())
                                + ") changes relations wholesale (XLR_SPECIAL_REL_UPDATE)");
                    }
            }
        } catch (IndexOutOfBoundsException | java.nio.BufferUnderflowException e) {
            s.markUnsafe("record at " + r.lsn() + " (resource manager " + r.rmid() + ", info 0x" + Integer.toHexString(r.info())
                    + ") has main data too short for its kind (" + r.mainData().length + " bytes)");
        }
        for (BlockRef b : r.blocks()) {
            if (b.fork() != FSM_FORK) {
                s.markModified(b.tablespace(), b.database(), b.relation(), b.fork(), b.block());
            }
        }
    }

    private static ByteBuffer main(Record r) {
        return ByteBuffer.wrap(r.mainData()).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void xlog(WalSummary s, Record r, int info, ByteBuffer main, int pgMajor) {
        int walLevel = -1;
        if (info == XLOG_PARAMETER_CHANGE) {
            walLevel = main.getInt(20); // MaxConnections, max_worker_processes, max_wal_senders, max_prepared_xacts, max_locks_per_xact, wal_level
        } else if (pgMajor >= 17 && info == XLOG_CHECKPOINT_SHUTDOWN) {
            walLevel = main.getInt(20); // redo, ThisTimeLineID, PrevTimeLineID, fullPageWrites (+3), wal_level
        } else if (pgMajor >= 17 && info == XLOG_CHECKPOINT_REDO && main.capacity() >= 4) {
            walLevel = main.getInt(0);
        } else if (pgMajor >= 17 && info == XLOG_END_OF_RECOVERY && main.capacity() >= 20) {
            walLevel = main.getInt(16); // end_time, ThisTimeLineID, PrevTimeLineID, wal_level
        }
        if (walLevel == WAL_LEVEL_MINIMAL) {
            s.markUnsafe("wal_level=minimal at " + r.lsn() + ": relations may change without WAL");
        }
    }

    private static void xact(WalSummary s, Record r, ByteBuffer main) {
        if (!r.isTransactionEnd()) {
            return; // prepare, assignment, invalidations: their dropped relations are dropped by the commit or abort
        }
        if ((r.info() & XLOG_XACT_HAS_INFO) == 0) {
            return; // xact_time only
        }
        int xinfo = main.getInt(8);
        int p = 12;
        if ((xinfo & XACT_XINFO_HAS_DBINFO) != 0) {
            p += 8;
        }
        if ((xinfo & XACT_XINFO_HAS_SUBXACTS) != 0) {
            p += 4 + 4 * main.getInt(p);
        }
        if ((xinfo & XACT_XINFO_HAS_RELFILELOCATORS) != 0) {
            int n = main.getInt(p);
            p += 4;
            for (int i = 0; i < n; i++, p += 12) {
                long spc = Integer.toUnsignedLong(main.getInt(p));
                long db = Integer.toUnsignedLong(main.getInt(p + 4));
                long rel = Integer.toUnsignedLong(main.getInt(p + 8));
                for (int fork = 0; fork <= MAX_FORK; fork++) {
                    if (fork != FSM_FORK) {
                        s.setLimit(new RelationFork(spc, db, rel, fork), 0);
                    }
                }
            }
        }
    }

    private static void smgr(WalSummary s, Record r, int info, ByteBuffer main) {
        if (info == XLOG_SMGR_CREATE) {
            int fork = main.getInt(12);
            if (fork != FSM_FORK) {
                s.setLimit(relationFork(main, 0, fork), 0);
            }
        } else if (info == XLOG_SMGR_TRUNCATE) {
            long blkno = Integer.toUnsignedLong(main.getInt(0));
            int flags = main.getInt(16);
            if ((flags & SMGR_TRUNCATE_HEAP) != 0) {
                s.setLimit(relationFork(main, 4, 0), blkno);
            }
            if ((flags & SMGR_TRUNCATE_VM) != 0) {
                s.setLimit(relationFork(main, 4, VM_FORK), blkno / HEAP_BLOCKS_PER_VM_PAGE);
            }
        } else {
            s.markUnsafe("unknown storage manager record at " + r.lsn() + " (info 0x" + Integer.toHexString(r.info()) + ")");
        }
    }

    private static void dbase(WalSummary s, Record r, int info, ByteBuffer main, int pgMajor) {
        // 13-14: CREATE 0x00 {db, spc, src db, src spc}, DROP 0x10 {db, ntablespaces, spc[]}
        // 15+:   CREATE_FILE_COPY 0x00 {db, spc, src db, src spc}, CREATE_WAL_LOG 0x10 {db, spc}, DROP 0x20
        int drop = pgMajor <= 14 ? 0x10 : 0x20;
        if (info == 0x00 || (pgMajor >= 15 && info == 0x10)) {
            s.setLimit(RelationFork.sentinel(Integer.toUnsignedLong(main.getInt(4)), Integer.toUnsignedLong(main.getInt(0))), 0);
        } else if (info == drop) {
            long db = Integer.toUnsignedLong(main.getInt(0));
            int n = main.getInt(4);
            for (int i = 0; i < n; i++) {
                s.setLimit(RelationFork.sentinel(Integer.toUnsignedLong(main.getInt(8 + 4 * i)), db), 0);
            }
        } else {
            s.markUnsafe("unknown database record at " + r.lsn() + " (info 0x" + Integer.toHexString(r.info()) + ")");
        }
    }

    private static RelationFork relationFork(ByteBuffer main, int at, int fork) {
        return new RelationFork(Integer.toUnsignedLong(main.getInt(at)), Integer.toUnsignedLong(main.getInt(at + 4)),
                Integer.toUnsignedLong(main.getInt(at + 8)), fork);
    }
}
