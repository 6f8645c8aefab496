package dev.cellar.backup;

import dev.cellar.wal.WalSummary;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A data directory path that is a relation's file: {@code global/<rel>}, {@code base/<db>/<rel>} or
 * {@code pg_tblspc/<spc>/<version>/<db>/<rel>}, with an optional fork suffix ({@code _fsm}, {@code _vm},
 * {@code _init}) and segment number ({@code .N}, each segment holding 1 GiB: 131,072 blocks of 8 KiB).
 */
public record RelationFile(long tablespace, long database, long relation, int fork, int segment) {

    /** {@code pg_default}, the tablespace of {@code base/}. */
    static final long DEFAULT_TABLESPACE = 1663;
    /** {@code pg_global}, the tablespace of {@code global/}. */
    static final long GLOBAL_TABLESPACE = 1664;
    public static final int MAIN_FORK = 0;
    public static final long BLOCKS_PER_SEGMENT = 131_072;
    public static final int BLOCK = 8192;

    private static final Pattern PATH = Pattern.compile(
            "(?:global|base/(\\d+)|pg_tblspc/(\\d+)/PG_[^/]+/(\\d+))/(\\d+)(?:_(fsm|vm|init))?(?:\\.(\\d+))?");

    public static Optional<RelationFile> parse(String path) {
        Matcher m = PATH.matcher(path);
        if (!m.matches()) {
            return Optional.empty();
        }
        long tablespace;
        long database;
        if (m.group(1) != null) {
            tablespace = DEFAULT_TABLESPACE;
            database = Long.parseLong(m.group(1));
        } else if (m.group(2) != null) {
            tablespace = Long.parseLong(m.group(2));
            database = Long.parseLong(m.group(3));
        } else {
            tablespace = GLOBAL_TABLESPACE;
            database = 0;
        }
        int fork = m.group(5) == null ? MAIN_FORK : switch (m.group(5)) {
            case "fsm" -> 1;
            case "vm" -> 2;
            default -> 3;
        };
        try {
            return Optional.of(new RelationFile(tablespace, database, Long.parseLong(m.group(4)), fork,
                    m.group(6) == null ? 0 : Integer.parseInt(m.group(6))));
        } catch (NumberFormatException tooLarge) {
            return Optional.empty();
        }
    }

    public WalSummary.RelationFork relationFork() {
        return new WalSummary.RelationFork(tablespace, database, relation, fork);
    }

    /** The relation's block number of this file's first block. */
    public long firstBlock() {
        return segment * BLOCKS_PER_SEGMENT;
    }
}
