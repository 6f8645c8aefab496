package dev.cellar.verify;

import dev.cellar.postgres.LocalPostgresServer;
import dev.cellar.postgres.PostgresBinaries;
import dev.cellar.repository.ProcessOwner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A verification restore's scratch directory, {@code <cellar.home>/scratch/verify-<server>-<run>/}:
 * {@code data/} (the restored cluster), {@code run/} (its socket), and {@code owner} (the process
 * that made it, so that a later run can tell an abandoned one: its owner died, kill -9 or power
 * loss, and the server it started may still run). {@link #cleanAbandoned} stops such servers by
 * data directory and deletes the directories.
 */
public final class ScratchSpace {

    private final Path dir;

    private ScratchSpace(Path dir) {
        this.dir = dir;
    }

    public static Path root(Path home) {
        return home.resolve("scratch");
    }

    /** A fresh scratch directory for this run (an existing one of the same run is removed first). */
    public static ScratchSpace create(Path home, String server, String run, PostgresBinaries binaries) throws IOException {
        Path dir = root(home).resolve("verify-" + server + "-" + run.replaceAll("[^0-9A-Za-z]", ""));
        ScratchSpace s = new ScratchSpace(dir);
        s.remove(binaries);
        Files.createDirectories(dir);
        ProcessOwner self = ProcessOwner.current();
        Files.writeString(dir.resolve("owner"), self.host() + "\n" + self.pid() + "\n" + self.processStart() + "\n" + binaries.bin() + "\n");
        LocalPostgresServer.giveToServerUser(dir);
        if (!LocalPostgresServer.serverUserCanWrite(dir)) {
            s.remove(binaries);
            throw new IllegalStateException("the scratch space " + dir + " is out of reach of the OS user '" + LocalPostgresServer.serverUser()
                    + "' the temporary server runs as (PostgreSQL refuses root); make " + home + " traversable by it, or move cellar.home");
        }
        return s;
    }

    public static ScratchSpace of(Path dir) {
        return new ScratchSpace(dir);
    }

    public Path dir() {
        return dir;
    }

    public Path dataDir() {
        return dir.resolve("data");
    }

    public Path socketDir() {
        return dir.resolve("run");
    }

    /**
     * Makes the restored copy a small, private, throwaway server: little memory, no archiving, and authentication by trust on the loopback address and its private socket only
     * (its port is a random free one and it lives for the checks).
     */
    public void prepareCluster() throws IOException {
        Files.writeString(dataDir().resolve("pg_hba.conf"), """
                # written by cellar verify: a scratch copy, reachable on loopback only, for the duration of the checks
                local all all trust
                host all all 127.0.0.1/32 trust
                """);
        Files.writeString(dataDir().resolve("postgresql.auto.conf"), """

                # cellar verify: a small throwaway server (max_connections, max_wal_senders and the like stay as
                # they were: recovery refuses lower values than the primary's)
                shared_buffers = '32MB'
                archive_mode = 'off'
                """, java.nio.file.StandardOpenOption.APPEND);
        LocalPostgresServer.giveToServerUser(dir);
    }

    /** Stops a server running in the scratch data directory and deletes the directory. */
    public void remove(PostgresBinaries binaries) {
        if (binaries != null) {
            LocalPostgresServer.stop(binaries, dataDir(), "immediate");
        }
        LocalPostgresServer.run(List.of("rm", "-rf", dir.toString()), 300);
    }

    /** Removes the scratch directories of a server whose owner process no longer runs; returns them. */
    public static List<Path> cleanAbandoned(Path home, String server) throws IOException {
        List<Path> cleaned = new ArrayList<>();
        Path root = root(home);
        if (!Files.isDirectory(root)) {
            return cleaned;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(root, "verify-" + server + "-*")) {
            for (Path d : s) {
                List<String> owner;
                try {
                    owner = Files.readAllLines(d.resolve("owner"), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    owner = List.of();
                }
                boolean dead = owner.size() < 4
                        || new ProcessOwner(owner.get(0), Long.parseLong(owner.get(1)), Long.parseLong(owner.get(2))).isDeadLocalProcess();
                if (dead) {
                    PostgresBinaries binaries = null;
                    try {
                        binaries = owner.size() >= 4 ? PostgresBinaries.of(Path.of(owner.get(3)), "scratch owner") : null;
                    } catch (RuntimeException e) {
                        // binaries gone: nothing can run from them either
                    }
                    new ScratchSpace(d).remove(binaries);
                    cleaned.add(d);
                }
            }
        }
        return cleaned;
    }

    /** Refuses to start when the scratch file system cannot hold the restored cluster and its WAL, with a margin. */
    public static void requireSpace(Path home, long bytesNeeded) throws IOException {
        Path root = Files.createDirectories(root(home));
        long usable = Files.getFileStore(root).getUsableSpace();
        long wanted = bytesNeeded + bytesNeeded / 10 + (256L << 20);
        if (usable < wanted) {
            throw new IllegalStateException("the scratch space " + root + " has " + (usable >> 20) + " MiB free; the verification restore needs "
                    + (wanted >> 20) + " MiB (the backup, its WAL and a margin). Free space there or move cellar.home");
        }
    }
}
