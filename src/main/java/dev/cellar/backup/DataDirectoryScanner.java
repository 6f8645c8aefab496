package dev.cellar.backup;

import dev.cellar.repository.ManifestEntry;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Lists what a base backup copies from a data directory, excluding what pg_basebackup excludes:
 * the contents of pg_wal (WAL comes from the archive), of pg_dynshmem, pg_notify, pg_replslot,
 * pg_serial, pg_snapshots, pg_stat_tmp and pg_subtrans (the directories themselves are kept, a
 * server needs them), postmaster.pid/.opts, relcache init files, stale backup_label/tablespace_map,
 * temporary files, and the forks of unlogged relations other than their init fork. Tablespaces
 * are followed through their pg_tblspc symlinks and stored under {@code pg_tblspc/<oid>/}.
 */
public final class DataDirectoryScanner {

    /** One path to back up. */
    public record SourceFile(String path, Path absolute, ManifestEntry.Type type, long size, long mtime, int mode,
                             int relationSegment, String linkTarget) {
    }

    private static final Set<String> EXCLUDED_CONTENTS = Set.of(
            "pg_wal", "pg_dynshmem", "pg_notify", "pg_replslot", "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans");
    private static final Set<String> EXCLUDED_FILES = Set.of(
            "postmaster.pid", "postmaster.opts", "pg_internal.init", "backup_label", "backup_label.old", "tablespace_map",
            "tablespace_map.old", "backup_manifest", "postgresql.auto.conf.tmp", "current_logfiles.tmp");
    /** A relation file: {@code <relfilenode>[_fork][.<segment>]}. */
    private static final Pattern RELATION = Pattern.compile("(\\d+)(_(fsm|vm|init))?(\\.(\\d+))?");

    private DataDirectoryScanner() {
    }

    public static List<SourceFile> scan(Path pgdata) throws IOException {
        List<SourceFile> out = new ArrayList<>();
        walk(pgdata, "", out, true);
        return out;
    }

    /** Files largest first (so parallel workers finish together), then directories and links. */
    public static List<SourceFile> filesLargestFirst(List<SourceFile> all) {
        return all.stream().filter(f -> f.type() == ManifestEntry.Type.FILE)
                .sorted(Comparator.comparingLong(SourceFile::size).reversed().thenComparing(SourceFile::path)).toList();
    }

    private static void walk(Path dir, String rel, List<SourceFile> out, boolean top) throws IOException {
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            s.forEach(children::add);
        } catch (NoSuchFileException gone) {
            return; // a database dropped during the backup
        }
        children.sort(Comparator.comparing(p -> p.getFileName().toString()));
        Set<String> unlogged = unloggedRelations(children);
        for (Path child : children) {
            String name = child.getFileName().toString();
            String path = rel.isEmpty() ? name : rel + "/" + name;
            PosixFileAttributes a;
            try {
                a = Files.readAttributes(child, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException gone) {
                continue;
            }
            if (name.startsWith("pgsql_tmp") || (top && EXCLUDED_FILES.contains(name)) || name.equals("pg_internal.init")) {
                continue;
            }
            long mtime = a.lastModifiedTime().toMillis();
            int mode = mode(a.permissions());
            if (a.isSymbolicLink()) {
                String target = Files.readSymbolicLink(child).toString();
                out.add(new SourceFile(path, child, ManifestEntry.Type.LINK, 0, mtime, mode, -1, target));
                if (rel.equals("pg_tblspc")) {
                    walk(child.toRealPath(), path, out, false);
                }
                continue;
            }
            if (a.isDirectory()) {
                out.add(new SourceFile(path, child, ManifestEntry.Type.DIRECTORY, 0, mtime, mode, -1, null));
                if (top && EXCLUDED_CONTENTS.contains(name)) {
                    if (name.equals("pg_wal")) {
                        Path status = child.resolve("archive_status");
                        if (Files.isDirectory(status)) {
                            out.add(new SourceFile("pg_wal/archive_status", status, ManifestEntry.Type.DIRECTORY, 0, mtime, mode, -1, null));
                        }
                    }
                    continue;
                }
                walk(child, path, out, false);
                continue;
            }
            if (!a.isRegularFile()) {
                continue; // sockets, fifos: never part of a cluster
            }
            int segment = -1;
            if (inRelationDirectory(rel)) {
                Matcher m = RELATION.matcher(name);
                if (m.matches()) {
                    if (unlogged.contains(m.group(1)) && !"init".equals(m.group(3))) {
                        continue; // unlogged: only the init fork is kept; recovery recreates the rest from it
                    }
                    segment = m.group(5) == null ? 0 : Integer.parseInt(m.group(5));
                }
            }
            out.add(new SourceFile(path, child, ManifestEntry.Type.FILE, a.size(), mtime, mode, segment, null));
        }
    }

    /** Relation file nodes of this directory that have an init fork, i.e. unlogged relations. */
    private static Set<String> unloggedRelations(List<Path> children) {
        Set<String> out = new HashSet<>();
        for (Path p : children) {
            String n = p.getFileName().toString();
            if (n.endsWith("_init")) {
                out.add(n.substring(0, n.length() - "_init".length()));
            }
        }
        return out;
    }

    /** base/<db>, global, or pg_tblspc/<oid>/<PG_version>/<db>. */
    static boolean inRelationDirectory(String rel) {
        return rel.equals("global") || rel.matches("base/\\d+") || rel.matches("pg_tblspc/\\d+/PG_[^/]+/\\d+");
    }

    static int mode(Set<PosixFilePermission> perms) {
        int m = 0;
        for (PosixFilePermission p : perms) {
            m |= switch (p) {
                case OWNER_READ -> 0400;
                case OWNER_WRITE -> 0200;
                case OWNER_EXECUTE -> 0100;
                case GROUP_READ -> 040;
                case GROUP_WRITE -> 020;
                case GROUP_EXECUTE -> 010;
                case OTHERS_READ -> 04;
                case OTHERS_WRITE -> 02;
                case OTHERS_EXECUTE -> 01;
            };
        }
        return m;
    }
}
