package dev.cellar.demo;

import dev.cellar.api.Cellar;
import dev.cellar.api.CellarException;
import dev.cellar.api.ExitCode;
import dev.cellar.config.CellarSettings;
import dev.cellar.config.SettingsLoader;
import dev.cellar.jobs.ExecutionDetail;
import dev.cellar.jobs.ExecutionSummary;
import dev.cellar.jobs.JobHistory;
import dev.cellar.jobs.StepSummary;
import dev.cellar.postgres.LocalPostgresServer;
import dev.cellar.postgres.PostgresBinaries;
import dev.cellar.postgres.PostgresConnector;
import dev.cellar.repository.BackupInfo;
import dev.cellar.restore.RecoveryConfiguration;
import dev.cellar.restore.RecoveryTarget;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code cellar demo}: the whole pipeline on a PostgreSQL of its own, in one directory. A cluster
 * archiving through {@code cellar-wal-archive}, a sample dataset, a full backup, changes, a WAL
 * sweep, an incremental backup, a recorded time T, a destructive mistake, a point-in-time restore
 * to T into a new directory, the restored copy started and the lost table counted. Every job runs
 * through the same facade as the command line, recorded in the demo's own catalog. Whatever it
 * started it stops, on success, failure and Ctrl-C ({@code keep} leaves the demo cluster running).
 */
public final class Demo {

    /** What the demo was asked. */
    public record Options(Path dir, boolean dirGiven, int scale, Path pgBin, boolean keep) {
    }

    /** One job the demo ran. */
    public record JobRun(String what, long execution, String status, double seconds) {
    }

    /** The outcome, for --json. */
    public record Result(String dir, String config, String postgres, int port, boolean kept, String targetTime,
                         long ordersAtTarget, long ordersRestored, List<JobRun> jobs, long databaseBytes, long repositoryBytes,
                         List<String> backups, List<String> tryNext) {
        public boolean passed() {
            return ordersAtTarget == ordersRestored;
        }
    }

    private static final String SERVER = "demo";
    private static final String MARKER = ".cellar-demo";

    private final Options options;
    private final Path dist;
    private final PrintWriter say;
    private final List<JobRun> jobs = new ArrayList<>();
    private final List<Path> started = new ArrayList<>();
    private PostgresBinaries binaries;

    public Demo(Options options, Path dist, PrintWriter say) {
        this.options = options;
        this.dist = dist;
        this.say = say;
    }

    public Result run() throws IOException, SQLException, InterruptedException {
        Path dir = prepareDirectory(options.dir());
        if (!LocalPostgresServer.serverUserCanWrite(dir)) {
            if (options.dirGiven()) {
                throw new CellarException(ExitCode.REFUSED, "the PostgreSQL server runs as the OS user '" + LocalPostgresServer.serverUser()
                        + "' (it refuses root), which cannot reach " + dir + "; give --dir a directory it can reach, e.g. --dir /var/tmp/cellar-demo");
            }
            // As root, the default under ~/.cellar is usually out of the server user's reach (/root is private).
            Path fallback = Path.of("/var/tmp/cellar-demo");
            say.println("The PostgreSQL server runs as '" + LocalPostgresServer.serverUser() + "', which cannot reach " + dir + "; using " + fallback);
            LocalPostgresServer.run(List.of("rm", "-rf", dir.toString()), 60);
            dir = prepareDirectory(fallback);
        }
        binaries = PostgresBinaries.locate(options.pgBin(), dist, Path.of(System.getProperty("java.io.tmpdir"), "cellar-pg-" + System.getProperty("user.name")));
        say.printf("PostgreSQL %d (%s: %s)%n", binaries.major(), binaries.origin(), binaries.bin());
        Thread cleanup = new Thread(this::stopEverything, "cellar-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        boolean keepRunning = false;
        try {
            Result r = pipeline(dir);
            keepRunning = options.keep();
            return r;
        } finally {
            if (!keepRunning) {
                stopEverything();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs anyway
            }
        }
    }

    private Result pipeline(Path dir) throws IOException, SQLException, InterruptedException {
        Path spool = Files.createDirectories(dir.resolve("spool"));
        LocalPostgresServer.giveToServerUser(spool);
        Map<String, String> conf = new LinkedHashMap<>();
        conf.put("wal_level", "replica");
        conf.put("archive_mode", "on");
        conf.put("archive_command", "'" + dist.resolve("bin/cellar-wal-archive") + " " + spool + " %p %f'");
        conf.put("shared_buffers", "64MB");
        conf.put("max_wal_size", "1GB");
        conf.put("log_min_messages", "warning");
        section("Starting a PostgreSQL cluster in " + dir.resolve("pgdata") + " (archiving through cellar-wal-archive)");
        LocalPostgresServer pg = LocalPostgresServer.initdb(binaries, dir.resolve("pgdata"), dir.resolve("run"), conf);
        started.add(pg.dataDir());
        pg.start();
        say.printf("  listening on 127.0.0.1:%d%n", pg.port());

        Path config = writeConfig(dir, pg, spool);
        say.println("  configuration: " + config);
        CellarSettings settings = new SettingsLoader(Map.of(), dir).load(config);
        try (Cellar cellar = new Cellar(settings, new PostgresConnector(Map.of(), dir))) {
            section("Creating the sample dataset (scale " + options.scale() + ")");
            long t0 = System.nanoTime();
            sql(pg, "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, city text NOT NULL)",
                    "INSERT INTO customers SELECT g, 'customer ' || g, (ARRAY['Oslo','Lyon','Porto','Turin','Ghent'])[1 + g % 5] "
                            + "FROM generate_series(1, " + 10_000L * options.scale() + ") g",
                    "CREATE TABLE orders (id bigint PRIMARY KEY, customer int NOT NULL, amount numeric(10,2) NOT NULL, placed timestamptz NOT NULL, note text)",
                    "INSERT INTO orders SELECT g, 1 + g % " + 10_000L * options.scale() + ", (g % 10000) / 100.0, "
                            + "timestamptz '2026-01-01' + g * interval '1 second', repeat(md5(g::text), 3) FROM generate_series(1, " + 100_000L * options.scale() + ") g",
                    "VACUUM ANALYZE", "CHECKPOINT");
            say.printf("  %,d customers, %,d orders, database %s, in %.1fs%n", count(pg, "customers"), count(pg, "orders"),
                    size(databaseBytes(pg)), (System.nanoTime() - t0) / 1e9);

            section("Full backup (base-backup job)");
            Cellar.BackupResult full = cellar.backup(SERVER, true, true);
            job("full backup", full.execution());
            archive(cellar);

            section("Changes: 5% of the orders updated (one range of ids), 1% added");
            sql(pg, "UPDATE orders SET amount = amount + 1 WHERE id <= " + 5_000L * options.scale(),
                    "INSERT INTO orders SELECT g, 1 + g % 1000, 9.99, now(), 'new' FROM generate_series(" + (100_000L * options.scale() + 1) + ", "
                            + (101_000L * options.scale()) + ") g", "CHECKPOINT");
            archive(cellar);

            section("Incremental backup (base-backup job)");
            Cellar.BackupResult incremental = cellar.backup(SERVER, false, true);
            job("incremental backup", incremental.execution());
            if (incremental.backup() != null && full.backup() != null) {
                say.printf("  stored %s, against %s for the full backup%n", size(incremental.backup().storedBytes()), size(full.backup().storedBytes()));
                say.printf("  changes found by %s: %s%n", incremental.backup().incrementalMethod(), incremental.backup().incrementalNote());
            }

            section("Recording time T, then the mistake");
            sql(pg, "INSERT INTO orders VALUES (0, 1, 42.00, now(), 'the last order before T')");
            Instant t = Instant.parse(query(pg, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"));
            long ordersAtT = count(pg, "orders");
            long dbBytes = databaseBytes(pg);
            say.printf("  T = %s: %,d orders%n", t, ordersAtT);
            Thread.sleep(1000);
            sql(pg, "DROP TABLE orders");
            say.println("  DROP TABLE orders;   -- oops");
            Cellar.SwitchResult switched = cellar.switchWal(SERVER, true, Duration.ofSeconds(120));
            say.printf("  switch-wal: segment %s archived (wal-sweep job)%n", switched.segment());
            for (ExecutionSummary s : cellar.listJobs(new JobHistory.Filter(SERVER, "wal-sweep", null, null, 1))) {
                jobs.add(new JobRun("wal sweep after the mistake", s.id(), s.status(), seconds(s.duration())));
            }

            section("Point-in-time restore to T (restore job)");
            Path restored = dir.resolve("restored");
            Cellar.RecoverResult recovered = cellar.recover(new Cellar.RecoverRequest(SERVER, "auto", restored, new RecoveryTarget.Time(t), null,
                    RecoveryConfiguration.Action.PROMOTE, false, Map.of(), false, 0));
            job("restore to T", recovered.execution());
            if (!"COMPLETED".equals(recovered.execution().execution().status())) {
                throw new CellarException(ExitCode.FAILED, "the restore failed: " + recovered.execution().execution().exitMessage());
            }
            say.printf("  backup %s, WAL %s to %s (%d segments)%n", recovered.plan().backupId(), recovered.plan().firstWal(),
                    recovered.plan().lastWal(), recovered.plan().walSegments());

            section("Starting the restored copy");
            LocalPostgresServer copy = LocalPostgresServer.existing(binaries, restored, dir.resolve("run"));
            started.add(copy.dataDir());
            long r0 = System.nanoTime();
            copy.start();
            copy.awaitPrimary(300);
            long ordersRestored = count(copy, "orders");
            say.printf("  recovered and promoted in %.1fs on port %d%n", (System.nanoTime() - r0) / 1e9, copy.port());
            say.printf("  orders is back: %,d rows (%,d at T) %s%n", ordersRestored, ordersAtT, ordersRestored == ordersAtT ? "- as at T" : "- MISMATCH");
            say.println("  verify-restore: not built yet (issue #8)");
            copy.stop();

            section("Job history (cellar jobs list)");
            for (ExecutionSummary s : cellar.listJobs(new JobHistory.Filter(null, null, null, null, 20))) {
                say.printf("  %4d  %-12s %-6s %-10s %6.1fs  %s%n", s.id(), s.job(), s.server(), s.status(), seconds(s.duration()), s.identity());
            }
            section("Backup catalog (cellar list-backups " + SERVER + ")");
            List<String> ids = new ArrayList<>();
            for (BackupInfo b : cellar.listBackups(SERVER)) {
                ids.add(b.id());
                say.printf("  %-16s %-11s %-16s db %9s  stored %9s  WAL %s..%s%n", b.id(), b.type(), b.parent() == null ? "-" : b.parent(),
                        size(b.sizeBytes()), size(b.storedBytes()), b.beginWal(), b.endWal());
            }

            long repoBytes = treeBytes(dir.resolve("repo"));
            String cellarCommand = dist.resolve("bin/cellar") + " --config " + config;
            List<String> next = List.of(
                    cellarCommand + " list-backups " + SERVER,
                    cellarCommand + " show-backup " + SERVER + " latest",
                    cellarCommand + " jobs show " + recovered.execution().execution().id(),
                    cellarCommand + " recover " + SERVER + " latest " + dir.resolve("another-restore") + " --target-immediate");
            section("Summary");
            say.printf("  database %s at T, repository %s (two backups and the WAL)%n", size(dbBytes), size(repoBytes));
            for (JobRun j : jobs) {
                say.printf("  %-28s %-10s %6.1fs  (execution %d)%n", j.what(), j.status(), j.seconds(), j.execution());
            }
            say.println("  Try next:");
            next.forEach(c -> say.println("    " + c));
            if (options.keep()) {
                pg.detach();
                String user = LocalPostgresServer.serverUser();
                say.printf("  The demo cluster keeps running on port %d (--keep); stop it with: %s%s -D %s stop%n", pg.port(),
                        user == null ? "" : "runuser -u " + user + " -- ", binaries.tool("pg_ctl"), pg.dataDir());
            }
            return new Result(dir.toString(), config.toString(), binaries.bin().toString(), pg.port(), options.keep(), t.toString(), ordersAtT,
                    ordersRestored, List.copyOf(jobs), dbBytes, repoBytes, ids, next);
        }
    }

    private void archive(Cellar cellar) {
        ExecutionDetail sweep = cellar.archiveWal(SERVER);
        job("wal sweep", sweep);
    }

    private void job(String what, ExecutionDetail d) {
        ExecutionSummary s = d.execution();
        jobs.add(new JobRun(what, s.id(), s.status(), seconds(s.duration())));
        say.printf("  %s: execution %d %s in %.1fs%n", s.job(), s.id(), s.status(), seconds(s.duration()));
        for (StepSummary st : d.steps()) {
            say.printf("    %-36s %-10s %6.2fs%s%n", st.name(), st.status(), seconds(st.duration()),
                    st.writeCount() > 0 ? "  (" + st.writeCount() + " written)" : "");
        }
        if (!s.status().equals("COMPLETED")) {
            throw new CellarException(ExitCode.FAILED, s.job() + " " + s.status() + ": " + s.exitMessage());
        }
    }

    private void section(String title) {
        say.println();
        say.println("== " + title);
        say.flush();
    }

    /** The demo directory, fresh: a previous demo's is stopped and emptied; anything else non-empty is refused. */
    private Path prepareDirectory(Path requested) throws IOException {
        Path dir = requested.toAbsolutePath().normalize();
        if (Files.isDirectory(dir)) {
            boolean empty;
            try (Stream<Path> s = Files.list(dir)) {
                empty = s.findAny().isEmpty();
            }
            if (!empty && !Files.exists(dir.resolve(MARKER))) {
                throw new CellarException(ExitCode.REFUSED, dir + " is not empty and is not a demo directory; give --dir a new or empty directory");
            }
            if (!empty) {
                PostgresBinaries previous = previousBinaries(dir);
                for (String cluster : List.of("pgdata", "restored")) {
                    if (previous != null) {
                        LocalPostgresServer.stop(previous, dir.resolve(cluster), "fast");
                    }
                }
                say.println("Removing the previous demo in " + dir);
                LocalPostgresServer.run(List.of("rm", "-rf", dir.toString()), 300);
            }
        }
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(MARKER), "cellar demo directory; `cellar demo` empties it on its next run\n");
        LocalPostgresServer.giveToServerUser(dir);
        return dir;
    }

    private static PostgresBinaries previousBinaries(Path dir) {
        try {
            String bin = Files.readString(dir.resolve("pg-bin")).strip();
            return PostgresBinaries.of(Path.of(bin), "previous demo");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private Path writeConfig(Path dir, LocalPostgresServer pg, Path spool) throws IOException {
        Files.writeString(dir.resolve("pg-bin"), binaries.bin() + "\n");
        Path config = dir.resolve("cellar.yaml");
        Files.writeString(config, """
                # Written by `cellar demo`. The demo's own catalog, repository and server; try:
                #   cellar --config %1$s list-backups demo
                cellar:
                  home: %2$s
                  repository: %3$s
                  servers:
                    demo:
                      conninfo: "%4$s"
                      pgdata: %5$s
                      pg-bin: %6$s
                      wal-spool: %7$s
                """.formatted(config, dir.resolve("home"), dir.resolve("repo").toUri(), pg.jdbcUrl("postgres"), pg.dataDir(), binaries.bin(), spool));
        return config;
    }

    private void stopEverything() {
        for (Path data : started) {
            try {
                LocalPostgresServer.stop(binaries, data, "fast");
            } catch (RuntimeException e) {
                say.println("  could not stop the server in " + data + ": " + e.getMessage());
            }
        }
        started.clear();
    }

    private static void sql(LocalPostgresServer pg, String... statements) throws SQLException {
        try (Connection c = pg.connect(); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        }
    }

    private static String query(LocalPostgresServer pg, String sql) throws SQLException {
        try (Connection c = pg.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static long count(LocalPostgresServer pg, String table) throws SQLException {
        return Long.parseLong(query(pg, "SELECT count(*) FROM " + table));
    }

    private static long databaseBytes(LocalPostgresServer pg) throws SQLException {
        return Long.parseLong(query(pg, "SELECT sum(pg_database_size(oid)) FROM pg_database"));
    }

    private static long treeBytes(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    private static double seconds(Duration d) {
        return d == null ? 0 : d.toMillis() / 1000.0;
    }

    static String size(long bytes) {
        return bytes >= 1L << 30 ? String.format("%.1f GiB", bytes / (double) (1L << 30)) : String.format("%.1f MiB", bytes / (double) (1L << 20));
    }
}
