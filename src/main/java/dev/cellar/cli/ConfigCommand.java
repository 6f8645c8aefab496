package dev.cellar.cli;

import dev.cellar.api.ExitCode;
import dev.cellar.config.CellarSettings;
import dev.cellar.config.ServerSettings;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code cellar config}: validate the configuration and print it as Cellar understood it (no secrets are ever in it). */
@Command(name = "config", mixinStandardHelpOptions = true,
        description = {"Validate the configuration and print the effective settings, defaults and environment overrides included.",
                "Exit code 2 with a one-line message naming the key when something is wrong."})
final class ConfigCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        CellarCommand root = CellarCommand.root(spec);
        CellarSettings s = root.settings();
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("source", s.source().map(Object::toString).orElse("(none: defaults)"));
        view.put("home", s.home().toString());
        view.put("catalog", s.catalog().url());
        view.put("repository", s.repository());
        Map<String, Object> servers = new LinkedHashMap<>();
        for (ServerSettings srv : s.servers().values()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("conninfo", srv.conninfo());
            m.put("pgdata", srv.pgdataPath().map(Object::toString).orElse(null));
            m.put("pg-bin", srv.pgBinPath().map(Object::toString).orElse("(auto-detect)"));
            m.put("wal-spool", srv.walSpool().toString());
            m.put("passfile", srv.passfilePath().map(Object::toString).orElse(null));
            m.put("compression", srv.compression().toString());
            m.put("parallel", srv.parallel());
            m.put("retention", srv.retentionPolicy().map(Object::toString).orElse("(none: keep everything)"));
            m.put("minimum-redundancy", srv.minimumRedundancy());
            m.put("last-backup-maximum-age", srv.lastBackupMaximumAge() == null ? null : srv.lastBackupMaximumAge().toString());
            m.put("last-wal-maximum-age", srv.lastWalMaximumAge() == null ? null : srv.lastWalMaximumAge().toString());
            m.put("schedules", srv.schedules());
            if (!srv.hooks().commands().isEmpty()) {
                Map<String, Object> hooks = new LinkedHashMap<>();
                hooks.put("timeout", srv.hooks().timeout().toSeconds() + " SECONDS");
                hooks.putAll(srv.hooks().commands());
                m.put("hooks", hooks);
            }
            servers.put(srv.name(), m);
        }
        view.put("servers", servers);
        root.output().result(view, out -> {
            out.println("Configuration is valid.");
            view.forEach((k, v) -> {
                if (!k.equals("servers")) {
                    out.printf("  %-12s %s%n", k + ":", v);
                }
            });
            servers.forEach((name, m) -> {
                out.println("  server " + name + ":");
                ((Map<?, ?>) m).forEach((k, v) -> {
                    if (v != null) {
                        out.printf("    %-24s %s%n", k + ":", v);
                    }
                });
            });
        });
        return ExitCode.OK.code();
    }
}
