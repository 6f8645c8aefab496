package dev.cellar.config;

import dev.cellar.retention.RetentionPolicy;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.quartz.CronExpression;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads {@code cellar.yaml}, applies environment overrides and validates every key.
 *
 * <p>Validation is strict on purpose: an unknown key is an error (a misspelt {@code retention} must
 * not silently mean "keep everything forever"), and every error is one line naming the key and the
 * form it expects. Environment overrides: {@code CELLAR_HOME}, {@code CELLAR_CATALOG_URL},
 * {@code CELLAR_CATALOG_USER}, {@code CELLAR_CATALOG_PASSFILE}, {@code CELLAR_REPOSITORY} and {@code CELLAR_SERVERS_<SERVER>_<KEY>}
 * for a configured server's scalar keys (upper case, {@code -} and {@code .} as {@code _}).
 */
public final class SettingsLoader {

    /** Keys of a server block, in the order the documentation lists them. */
    public static final List<String> SERVER_KEYS = List.of(
            "conninfo", "pgdata", "pg-bin", "wal-spool", "passfile", "compression", "parallel",
            "retention", "minimum-redundancy", "last-backup-maximum-age", "last-wal-maximum-age", "verification-maximum-age", "page-checksum-failure",
            "bwlimit", "spool-maximum-files", "schedules", "hooks");

    /** The jobs a server can schedule. */
    public static final List<String> SCHEDULED_JOBS = List.of("base-backup", "wal-sweep", "verify-restore", "retention-prune");

    private static final Set<String> TOP_KEYS = Set.of("home", "catalog", "repository", "servers", "serve");
    private static final Set<String> SERVE_KEYS = Set.of("listen", "user", "password-file", "threads", "misfire-threshold",
            "shutdown-timeout", "cluster-checkin-interval", "accept-commands");
    private static final Set<String> CATALOG_KEYS = Set.of("url", "user", "passfile");
    private static final Pattern SERVER_NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{cellar\\.home}");

    private final Map<String, String> environment;
    private final Path userHome;

    public SettingsLoader(Map<String, String> environment, Path userHome) {
        this.environment = environment;
        this.userHome = userHome;
    }

    /** A loader over the real process environment. */
    public static SettingsLoader fromProcess() {
        return new SettingsLoader(System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /**
     * Loads the given file, or when {@code explicit} is null the first of {@code $CELLAR_CONFIG},
     * {@code ~/.cellar/cellar.yaml}, {@code /etc/cellar/cellar.yaml} that exists; defaults when none does.
     */
    public CellarSettings load(Path explicit) {
        Path file = explicit;
        if (file == null && environment.get("CELLAR_CONFIG") != null) {
            file = Path.of(environment.get("CELLAR_CONFIG"));
        }
        if (file != null) {
            if (!Files.isRegularFile(file)) {
                throw new ConfigException(null, "configuration file " + file + " does not exist or is not a file");
            }
            return parse(read(file), Optional.of(file));
        }
        for (Path candidate : List.of(userHome.resolve(".cellar/cellar.yaml"), Path.of("/etc/cellar/cellar.yaml"))) {
            if (Files.isRegularFile(candidate)) {
                return parse(read(candidate), Optional.of(candidate));
            }
        }
        return parse(Map.of(), Optional.empty());
    }

    /** Parses YAML text (used by tests and by {@link #load}). */
    public CellarSettings parseYaml(String yaml) {
        return parse(readYaml(yaml, "<text>"), Optional.empty());
    }

    private Map<String, Object> read(Path file) {
        try {
            return readYaml(Files.readString(file), file.toString());
        } catch (IOException e) {
            throw new ConfigException(null, "cannot read configuration file " + file + ": " + e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> readYaml(String text, String origin) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        try {
            Object doc = new Yaml(new SafeConstructor(options)).load(text);
            if (doc == null) {
                return Map.of();
            }
            if (!(doc instanceof Map)) {
                throw new ConfigException(null, origin + " is not a YAML mapping; expected a document starting with 'cellar:'");
            }
            return (Map<String, Object>) doc;
        } catch (MarkedYAMLException e) {
            String where = e.getProblemMark() == null ? "" : " at line " + (e.getProblemMark().getLine() + 1);
            throw new ConfigException(null, origin + " is not valid YAML" + where + ": " + e.getProblem());
        } catch (YAMLException e) {
            throw new ConfigException(null, origin + " is not valid YAML: " + e.getMessage().lines().findFirst().orElse(""));
        }
    }

    private CellarSettings parse(Map<String, Object> doc, Optional<Path> source) {
        for (String key : doc.keySet()) {
            if (!"cellar".equals(String.valueOf(key))) {
                throw new ConfigException(String.valueOf(key), "unknown key; all settings live under 'cellar:'");
            }
        }
        Map<String, Object> cellar = mapping(doc.get("cellar"), "cellar");
        checkKeys(cellar, "cellar", TOP_KEYS);

        String homeText = override("CELLAR_HOME", scalar(cellar.get("home"), "cellar.home"));
        Path home = homeText == null ? userHome.resolve(".cellar") : path(homeText, "cellar.home", null);

        Map<String, Object> catalogMap = mapping(cellar.get("catalog"), "cellar.catalog");
        checkKeys(catalogMap, "cellar.catalog", CATALOG_KEYS);
        String catalogUrl = override("CELLAR_CATALOG_URL", scalar(catalogMap.get("url"), "cellar.catalog.url"));
        if (catalogUrl == null) {
            catalogUrl = "jdbc:h2:file:" + home.resolve("catalog") + ";AUTO_SERVER=TRUE;WRITE_DELAY=0";
        } else {
            catalogUrl = expand(catalogUrl, home);
            if (!catalogUrl.startsWith("jdbc:h2:") && !catalogUrl.startsWith("jdbc:postgresql://")) {
                throw new ConfigException("cellar.catalog.url", "'" + catalogUrl
                        + "' is not a supported catalog URL; expected jdbc:h2:file:<path>[;AUTO_SERVER=TRUE] or jdbc:postgresql://host:port/database");
            }
            requireNoPassword(catalogUrl, "cellar.catalog.url");
        }
        String catalogUser = override("CELLAR_CATALOG_USER", scalar(catalogMap.get("user"), "cellar.catalog.user"));
        String catalogPassfile = override("CELLAR_CATALOG_PASSFILE", scalar(catalogMap.get("passfile"), "cellar.catalog.passfile"));
        CatalogSettings catalog = new CatalogSettings(catalogUrl, catalogUser,
                catalogPassfile == null ? null : path(catalogPassfile, "cellar.catalog.passfile", home));

        String repository = override("CELLAR_REPOSITORY", scalar(cellar.get("repository"), "cellar.repository"));
        if (repository != null) {
            repository = repositoryUri(expand(repository, home));
        }

        Map<String, Object> serversMap = mapping(cellar.get("servers"), "cellar.servers");
        Map<String, ServerSettings> servers = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : serversMap.entrySet()) {
            String name = String.valueOf(e.getKey());
            if (!SERVER_NAME.matcher(name).matches()) {
                throw new ConfigException("cellar.servers." + name,
                        "invalid server name; expected lower-case letters, digits, '-' or '_' (at most 63, starting with a letter or digit)");
            }
            servers.put(name, server(name, mapping(e.getValue(), "cellar.servers." + name), home));
        }
        if (!servers.isEmpty() && repository == null) {
            throw new ConfigException("cellar.repository", "missing; expected a repository URI such as file:///var/lib/cellar/repo or sftp://host/path");
        }
        return new CellarSettings(home, catalog, repository, Map.copyOf(servers), serve(mapping(cellar.get("serve"), "cellar.serve"), home), source);
    }

    private ServeSettings serve(Map<String, Object> m, Path home) {
        checkKeys(m, "cellar.serve", SERVE_KEYS);
        ServeSettings d = ServeSettings.defaults();
        String listen = override("CELLAR_SERVE_LISTEN", scalar(m.get("listen"), "cellar.serve.listen"));
        String host = d.listenHost();
        int port = d.listenPort();
        if (listen != null) {
            int colon = listen.lastIndexOf(':');
            if (colon <= 0 || colon == listen.length() - 1) {
                throw new ConfigException("cellar.serve.listen", "'" + listen + "' is not HOST:PORT; expected e.g. " + ServeSettings.DEFAULT_LISTEN);
            }
            host = listen.substring(0, colon);
            port = integer(listen.substring(colon + 1), "cellar.serve.listen (port)", port, 0, 65535);
        }
        String user = override("CELLAR_SERVE_USER", scalar(m.get("user"), "cellar.serve.user"));
        String passwordFile = override("CELLAR_SERVE_PASSWORD_FILE", scalar(m.get("password-file"), "cellar.serve.password-file"));
        if ((user == null) != (passwordFile == null)) {
            throw new ConfigException(user == null ? "cellar.serve.user" : "cellar.serve.password-file",
                    "missing; basic authentication needs both cellar.serve.user and cellar.serve.password-file");
        }
        int threads = integer(scalar(m.get("threads"), "cellar.serve.threads"), "cellar.serve.threads", d.threads(), 1, 64);
        java.util.function.BiFunction<String, java.time.Duration, java.time.Duration> age = (key, dflt) -> {
            String text = scalar(m.get(key), "cellar.serve." + key);
            return text == null ? dflt : parsed(text, "cellar.serve." + key, AgeLimit::parse).duration();
        };
        ServeSettings serve = new ServeSettings(host, port, Optional.ofNullable(user),
                Optional.ofNullable(passwordFile).map(f -> path(f, "cellar.serve.password-file", home)), threads,
                age.apply("misfire-threshold", d.misfireThreshold()), age.apply("shutdown-timeout", d.shutdownTimeout()),
                age.apply("cluster-checkin-interval", d.clusterCheckinInterval()),
                flag(scalar(m.get("accept-commands"), "cellar.serve.accept-commands"), "cellar.serve.accept-commands", d.acceptCommands()));
        if (!serve.listensOnLoopback() && serve.user().isEmpty()) {
            throw new ConfigException("cellar.serve.listen", "'" + listen + "' is not a loopback address and no authentication is set;"
                    + " set cellar.serve.user and cellar.serve.password-file, or listen on 127.0.0.1");
        }
        return serve;
    }

    private ServerSettings server(String name, Map<String, Object> m, Path home) {
        String prefix = "cellar.servers." + name;
        checkKeys(m, prefix, Set.copyOf(SERVER_KEYS));
        String envPrefix = "CELLAR_SERVERS_" + envName(name) + "_";
        Function<String, String> value = key -> override(envPrefix + envName(key), scalar(m.get(key), prefix + "." + key));

        String conninfo = value.apply("conninfo");
        if (conninfo == null) {
            throw new ConfigException(prefix + ".conninfo", "missing; expected a pgjdbc URL such as jdbc:postgresql://db1:5432/postgres?user=cellar");
        }
        if (!conninfo.startsWith("jdbc:postgresql://")) {
            throw new ConfigException(prefix + ".conninfo", "'" + conninfo + "' is not a PostgreSQL JDBC URL; expected jdbc:postgresql://host[:port]/database[?user=...]");
        }
        try {
            URI parsed = new URI(conninfo.substring("jdbc:".length()));
            if (parsed.getHost() == null && (parsed.getAuthority() == null || parsed.getAuthority().isBlank())) {
                throw new URISyntaxException(conninfo, "no host");
            }
        } catch (URISyntaxException e) {
            throw new ConfigException(prefix + ".conninfo", "'" + conninfo + "' is a malformed JDBC URL; expected jdbc:postgresql://host[:port]/database[?user=...]");
        }
        requireNoPassword(conninfo, prefix + ".conninfo");

        String pgdata = value.apply("pgdata");
        String pgBin = value.apply("pg-bin");
        String spool = value.apply("wal-spool");
        String passfile = value.apply("passfile");
        String compression = value.apply("compression");
        String retention = value.apply("retention");
        String lastBackupAge = value.apply("last-backup-maximum-age");
        String lastWalAge = value.apply("last-wal-maximum-age");

        Compression comp = compression == null ? Compression.DEFAULT : parsed(compression, prefix + ".compression", Compression::parse);
        RetentionPolicy policy = retention == null ? null : parsed(retention, prefix + ".retention", RetentionPolicy::parse);
        AgeLimit backupAge = lastBackupAge == null ? null : parsed(lastBackupAge, prefix + ".last-backup-maximum-age", AgeLimit::parse);
        AgeLimit walAge = lastWalAge == null ? null : parsed(lastWalAge, prefix + ".last-wal-maximum-age", AgeLimit::parse);
        String verificationAge = value.apply("verification-maximum-age");
        AgeLimit verifiedAge = verificationAge == null ? null : parsed(verificationAge, prefix + ".verification-maximum-age", AgeLimit::parse);
        int parallel = integer(value.apply("parallel"), prefix + ".parallel", 2, 1, 64);
        int minimumRedundancy = integer(value.apply("minimum-redundancy"), prefix + ".minimum-redundancy", 0, 0, 1000);
        String pageChecksumFailure = value.apply("page-checksum-failure");
        if (pageChecksumFailure != null && !pageChecksumFailure.equals("warn") && !pageChecksumFailure.equals("fail")) {
            throw new ConfigException(prefix + ".page-checksum-failure", "'" + pageChecksumFailure + "' is not valid; expected warn or fail");
        }
        int spoolMaximumFiles = integer(value.apply("spool-maximum-files"), prefix + ".spool-maximum-files", 100, 1, 1_000_000);
        String bwlimit = value.apply("bwlimit");
        long bytesPerSecond = bwlimit == null ? 0 : parsed(bwlimit, prefix + ".bwlimit", SettingsLoader::bandwidth);

        Map<String, Object> schedulesMap = mapping(m.get("schedules"), prefix + ".schedules");
        checkKeys(schedulesMap, prefix + ".schedules", Set.copyOf(SCHEDULED_JOBS));
        Map<String, String> schedules = new TreeMap<>();
        for (String job : SCHEDULED_JOBS) {
            String key = prefix + ".schedules." + job;
            String cron = override(envPrefix + "SCHEDULES_" + envName(job), scalar(schedulesMap.get(job), key));
            if (cron == null) {
                continue;
            }
            if (cron.trim().equalsIgnoreCase(ServerSettings.SCHEDULE_OFF)) {
                schedules.put(job, ServerSettings.SCHEDULE_OFF);
                continue;
            }
            if (!CronExpression.isValidExpression(cron)) {
                String why;
                try {
                    CronExpression.validateExpression(cron);
                    why = "";
                } catch (java.text.ParseException pe) {
                    why = " (" + pe.getMessage() + ")";
                }
                throw new ConfigException(key, "'" + cron + "' is not a Quartz cron expression" + why
                        + "; expected six or seven fields 'sec min hour day-of-month month day-of-week [year]', e.g. \"0 0 2 * * ?\", or off");
            }
            schedules.put(job, cron);
        }

        HookSettings hooks = hooks(mapping(m.get("hooks"), prefix + ".hooks"), prefix + ".hooks", envPrefix);

        return new ServerSettings(
                name,
                conninfo,
                pgdata == null ? null : path(pgdata, prefix + ".pgdata", home),
                pgBin == null ? null : path(pgBin, prefix + ".pg-bin", home),
                spool == null ? home.resolve("spool").resolve(name) : path(spool, prefix + ".wal-spool", home),
                passfile == null ? null : path(passfile, prefix + ".passfile", home),
                comp,
                parallel,
                policy,
                minimumRedundancy,
                backupAge,
                walAge,
                Map.copyOf(schedules),
                "fail".equals(pageChecksumFailure),
                bytesPerSecond,
                spoolMaximumFiles,
                verifiedAge,
                hooks);
    }

    /**
     * {@code hooks}: each hook an argument array (a YAML list, program first), run without a shell, so a
     * single string is refused rather than split; {@code timeout} ({@code CELLAR_SERVERS_<S>_HOOKS_TIMEOUT}).
     */
    private HookSettings hooks(Map<String, Object> m, String prefix, String envPrefix) {
        java.util.Set<String> known = new java.util.HashSet<>(HookSettings.NAMES);
        known.add("timeout");
        checkKeys(m, prefix, known);
        String timeoutText = override(envPrefix + "HOOKS_TIMEOUT", scalar(m.get("timeout"), prefix + ".timeout"));
        java.time.Duration timeout = timeoutText == null ? HookSettings.DEFAULT_TIMEOUT
                : parsed(timeoutText, prefix + ".timeout", HookSettings::parseTimeout);
        Map<String, List<String>> commands = new LinkedHashMap<>();
        for (String name : HookSettings.NAMES) {
            Object v = m.get(name);
            if (v == null) {
                continue;
            }
            String key = prefix + "." + name;
            String form = "expected an argument array such as [/usr/local/bin/notify, \"--event\", backup]; hooks run without a shell";
            if (!(v instanceof List<?> list)) {
                throw new ConfigException(key, (v instanceof Map ? "found a mapping" : "found '" + v + "'") + "; " + form);
            }
            if (list.isEmpty()) {
                throw new ConfigException(key, "is empty; " + form);
            }
            List<String> args = new ArrayList<>();
            for (Object a : list) {
                if (a == null || a instanceof Map || a instanceof List) {
                    throw new ConfigException(key, "every element must be a single value, found '" + a + "'; " + form);
                }
                args.add(String.valueOf(a));
            }
            String program = args.get(0);
            if (program.isBlank() || (!program.startsWith("/") && program.contains("/"))) {
                throw new ConfigException(key, "'" + program + "' is not a program; expected an absolute path or a name found in PATH");
            }
            commands.put(name, List.copyOf(args));
        }
        return new HookSettings(timeout, commands);
    }

    /** The form of a bandwidth: bytes per second, with an optional K, M or G (powers of 1024). */
    public static final String BANDWIDTH_FORM = "\"<n>[K|M|G]\" bytes per second, e.g. \"50M\"";

    /** Parses a bandwidth ({@link #BANDWIDTH_FORM}) into bytes per second. */
    public static long bandwidth(String text) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,9})\\s*([KMG]?)B?(/S)?").matcher(text.trim().toUpperCase(Locale.ROOT));
        if (!m.matches() || Long.parseLong(m.group(1)) == 0) {
            throw new IllegalArgumentException("'" + text + "' is not a bandwidth; expected " + BANDWIDTH_FORM);
        }
        long n = Long.parseLong(m.group(1));
        long bytesPerSecond = switch (m.group(2)) {
            case "K" -> n << 10;
            case "M" -> n << 20;
            case "G" -> n << 30;
            default -> n;
        };
        if (bytesPerSecond < MINIMUM_BANDWIDTH) {
            // The limit paces transfers of up to 64 KiB: below this, one of them alone would take over a second
            // (a mistyped '50' for '50M' would crawl for hours).
            throw new IllegalArgumentException("'" + text + "' is below the smallest bandwidth limit, 64K");
        }
        return bytesPerSecond;
    }

    /** The smallest bandwidth limit accepted, in bytes per second. */
    public static final long MINIMUM_BANDWIDTH = 64 << 10;

    /** Parses a value, turning the parser's message into an error about {@code key}. */
    private static <T> T parsed(String text, String key, Function<String, T> parser) {
        try {
            return parser.apply(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key, e.getMessage());
        }
    }

    private static void requireNoPassword(String url, String key) {
        if (url.toLowerCase(Locale.ROOT).matches(".*[?&;]password=.*")) {
            // Say nothing of the value: it is a secret.
            throw new ConfigException(key, "must not contain a password; put it in ~/.pgpass, a 'passfile' or the PGPASSWORD environment variable");
        }
    }

    private static String repositoryUri(String text) {
        if (text.startsWith("/")) {
            // Path.toUri ends the URI with a slash when the directory exists: the same file reads the same before and
            // after the repository is created (cellar serve compares configurations: design 2.2).
            String uri = Path.of(text).toUri().toString();
            return uri.endsWith("/") && !uri.equals("file:///") ? uri.substring(0, uri.length() - 1) : uri;
        }
        try {
            URI uri = new URI(text);
            if (uri.getScheme() == null) {
                throw new URISyntaxException(text, "no scheme");
            }
            return text;
        } catch (URISyntaxException e) {
            throw new ConfigException("cellar.repository", "'" + text + "' is not a URI; expected file:///path, an absolute path, or sftp://user@host/path");
        }
    }

    private Path path(String text, String key, Path home) {
        String t = home == null ? text : expand(text, home);
        if (t.equals("~") || t.startsWith("~/")) {
            t = userHome + t.substring(1);
        }
        Path p = Path.of(t);
        if (!p.isAbsolute()) {
            throw new ConfigException(key, "'" + text + "' is not an absolute path; expected /absolute/path, ~/path or ${cellar.home}/path");
        }
        return p.normalize();
    }

    private static String expand(String text, Path home) {
        return PLACEHOLDER.matcher(text).replaceAll(java.util.regex.Matcher.quoteReplacement(home.toString()));
    }

    private static int integer(String text, String key, int dflt, int min, int max) {
        if (text == null) {
            return dflt;
        }
        try {
            int v = Integer.parseInt(text.trim());
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // falls through
        }
        throw new ConfigException(key, "'" + text + "' is not valid; expected a whole number from " + min + " to " + max);
    }

    private String override(String envKey, String fileValue) {
        String v = environment.get(envKey);
        return v != null ? v : fileValue;
    }

    private static String envName(String key) {
        return key.toUpperCase(Locale.ROOT).replace('-', '_').replace('.', '_');
    }

    private static void checkKeys(Map<String, Object> m, String prefix, Set<String> known) {
        List<String> unknown = new ArrayList<>();
        for (Object k : m.keySet()) {
            if (!known.contains(String.valueOf(k))) {
                unknown.add(String.valueOf(k));
            }
        }
        if (!unknown.isEmpty()) {
            String k = unknown.get(0);
            throw new ConfigException(prefix + "." + k, "unknown key; expected one of " + String.join(", ", new java.util.TreeSet<>(known)));
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> mapping(Object value, String key) {
        if (value == null) {
            return Map.of();
        }
        if (!(value instanceof Map)) {
            throw new ConfigException(key, "expected a mapping (indented 'key: value' lines), found '" + value + "'");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        ((Map<Object, Object>) value).forEach((k, v) -> out.put(String.valueOf(k), v));
        return out;
    }

    private static boolean flag(String text, String key, boolean dflt) {
        if (text == null) {
            return dflt;
        }
        return switch (text) {
            case "true", "on", "yes" -> true;
            case "false", "off", "no" -> false;
            default -> throw new ConfigException(key, "'" + text + "' is not true or false");
        };
    }

    private static String scalar(Object value, String key) {
        if (value == null) {
            return null;
        }
        if (value instanceof Map || value instanceof List) {
            throw new ConfigException(key, "expected a single value, found a " + (value instanceof Map ? "mapping" : "list"));
        }
        return String.valueOf(value);
    }
}
