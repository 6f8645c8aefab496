package dev.cellar.cli;

import dev.cellar.api.Cellar;
import dev.cellar.config.CellarSettings;
import dev.cellar.config.SettingsLoader;
import dev.cellar.postgres.PostgresConnector;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** {@code cellar}: the root command with the global options every verb inherits. */
@Command(name = "cellar",
        mixinStandardHelpOptions = true,
        versionProvider = CellarVersion.class,
        description = "PostgreSQL backup and point-in-time recovery, run as restartable jobs.",
        footer = {"", "Exit codes: see docs/exit-codes.md (0 ok, 1 failed, 2 usage or configuration, 3 warnings, "
                + "4 not found, 5 busy, 6 refused, 9 not implemented yet, 70 internal)."},
        subcommands = {
                CheckCommand.class,
                BackupCommands.Backup.class,
                BackupCommands.ListBackups.class,
                BackupCommands.ShowBackup.class,
                BackupCommands.Delete.class,
                BackupCommands.CheckRepository.class,
                RetentionCommands.Keep.class,
                WalCommands.ArchiveWal.class,
                WalCommands.ListWal.class,
                WalCommands.SwitchWal.class,
                WalCommands.RebuildWalIndex.class,
                RecoverCommands.Recover.class,
                RecoverCommands.GetWal.class,
                VerifyCommand.class,
                RetentionCommands.Prune.class,
                CronCommand.class,
                ServeCommand.class,
                JobsCommand.class,
                DemoCommand.class,
                ConfigCommand.class,
        })
public final class CellarCommand implements Runnable {

    @Option(names = "--config", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "Configuration file (default: $CELLAR_CONFIG, ~/.cellar/cellar.yaml, /etc/cellar/cellar.yaml).")
    Path config;

    @Option(names = "--json", scope = ScopeType.INHERIT, description = "Print results as JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    private final CliEnvironment environment;
    /** A facade this command line did not open and must not close: {@code cellar serve}'s, for a command it runs (design 2.2). */
    private final Cellar shared;
    private Cellar cellar;

    CellarCommand(CliEnvironment environment) {
        this(environment, null);
    }

    CellarCommand(CliEnvironment environment, Cellar shared) {
        this.environment = environment;
        this.shared = shared;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The validated configuration (loaded on first use; a mistake is a {@link dev.cellar.config.ConfigException}). */
    CellarSettings settings() {
        return cellar().settings();
    }

    /** The facade, opened on first use and closed when the command line finishes. */
    Cellar cellar() {
        if (shared != null) {
            return shared;
        }
        if (cellar == null) {
            CellarSettings settings = new SettingsLoader(environment.variables(), environment.userHome()).load(config);
            cellar = new Cellar(settings, new PostgresConnector(environment.variables(), environment.userHome()),
                    dev.cellar.audit.Actor.operator(environment.variables()));
        }
        return cellar;
    }

    /**
     * Runs a job-running verb's work; in the command's own process, Ctrl-C and SIGTERM stop its job at the next
     * checkpoint instead of killing it ({@link InterruptStopsJob}). In {@code cellar serve} (design 2.2) it just runs.
     */
    <T> T runningJobs(java.util.concurrent.Callable<T> work) throws Exception {
        return shared != null ? work.call() : InterruptStopsJob.during(cellar(), spec.commandLine().getErr(), work);
    }

    CliEnvironment environment() {
        return environment;
    }

    Output output() {
        return new Output(spec.commandLine().getOut(), spec.commandLine().getErr(), json);
    }

    void close() {
        if (cellar != null) {
            cellar.close();
            cellar = null;
        }
    }

    /** The root command of any subcommand's spec. */
    static CellarCommand root(CommandSpec spec) {
        return (CellarCommand) spec.root().userObject();
    }
}
