package dev.cellar.cli;

import dev.cellar.api.ExitCode;
import dev.cellar.jobs.ExecutionDetail;
import dev.cellar.jobs.ExecutionSummary;
import dev.cellar.jobs.JobHistory;
import dev.cellar.jobs.StepSummary;
import java.io.PrintWriter;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code cellar jobs list|show|restart|stop|abandon|audit}: the job repository and the audit of operator actions. */
@Command(name = "jobs", mixinStandardHelpOptions = true,
        description = "Job history and operator actions on job executions.",
        subcommands = {JobsCommand.ListJobs.class, JobsCommand.Show.class, JobsCommand.Restart.class,
                JobsCommand.Stop.class, JobsCommand.Abandon.class, JobsCommand.Audit.class})
final class JobsCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand: list, show, restart, stop, abandon or audit");
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Job executions, newest first.")
    static final class ListJobs implements Callable<Integer> {
        @Option(names = "--server", description = "Only this server's jobs.")
        String server;
        @Option(names = "--job", description = "Only this job (base-backup, wal-sweep, restore, verify-restore, retention-prune).")
        String job;
        @Option(names = "--status", description = "Only this status (COMPLETED, FAILED, STOPPED, STARTED, ABANDONED).")
        String status;
        @Option(names = "--since", paramLabel = "AGE", description = "Only executions created within AGE: 30m, 12h, 7d.")
        String since;
        @Option(names = "--limit", defaultValue = "50", description = "At most this many lines (default ${DEFAULT-VALUE}).")
        int limit;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CellarCommand root = CellarCommand.root(spec);
            LocalDateTime after = since == null ? null : LocalDateTime.now().minus(parseAge(spec, since));
            List<ExecutionSummary> rows = root.cellar().listJobs(new JobHistory.Filter(server, job,
                    status == null ? null : status.toUpperCase(Locale.ROOT), after, limit));
            root.output().result(rows, out -> {
                if (rows.isEmpty()) {
                    out.println("No job executions.");
                    return;
                }
                out.printf("%-6s %-16s %-10s %-10s %-19s %-9s %s%n", "ID", "JOB", "SERVER", "STATUS", "START", "DURATION", "EXIT MESSAGE");
                for (ExecutionSummary s : rows) {
                    out.printf("%-6d %-16s %-10s %-10s %-19s %-9s %s%n", s.id(), s.job(), s.server() == null ? "-" : s.server(),
                            s.status(), Output.time(s.start()), Output.seconds(s.duration()), s.exitMessage());
                }
            });
            return ExitCode.OK.code();
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "One execution: parameters, steps, counts and checkpoints.")
    static final class Show implements Callable<Integer> {
        @Parameters(paramLabel = "EXECUTION")
        long id;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CellarCommand root = CellarCommand.root(spec);
            ExecutionDetail d = root.cellar().showJob(id);
            root.output().result(d, out -> printDetail(out, d));
            return ExitCode.OK.code();
        }
    }

    @Command(name = "restart", mixinStandardHelpOptions = true,
            description = "Restart a FAILED or STOPPED execution from its last checkpoints (a new execution of the same job instance).")
    static final class Restart implements Callable<Integer> {
        @Parameters(paramLabel = "EXECUTION")
        long id;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CellarCommand root = CellarCommand.root(spec);
            ExecutionDetail d = root.cellar().restartJob(id);
            root.output().result(d, out -> {
                out.println("Restarted execution " + id + " as execution " + d.execution().id() + ":");
                printDetail(out, d);
            });
            return exitCodeOf(d.execution());
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true,
            description = "Ask a running execution to stop at its next checkpoint; it becomes STOPPED and restartable.")
    static final class Stop implements Callable<Integer> {
        @Parameters(paramLabel = "EXECUTION")
        long id;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CellarCommand root = CellarCommand.root(spec);
            ExecutionDetail d = root.cellar().stopJob(id);
            root.output().result(d.execution(), out -> out.println("Asked execution " + id + " to stop; it is " + d.execution().status() + "."));
            return ExitCode.OK.code();
        }
    }

    @Command(name = "abandon", mixinStandardHelpOptions = true,
            description = "Mark a FAILED or STOPPED execution ABANDONED: it will never be restarted.")
    static final class Abandon implements Callable<Integer> {
        @Parameters(paramLabel = "EXECUTION")
        long id;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CellarCommand root = CellarCommand.root(spec);
            ExecutionDetail d = root.cellar().abandonJob(id);
            root.output().result(d.execution(), out -> out.println("Execution " + id + " is " + d.execution().status() + "."));
            return ExitCode.OK.code();
        }
    }

    @Command(name = "audit", mixinStandardHelpOptions = true,
            description = {"The audit of operator and scheduler actions, newest first: who (OS user, SUDO_USER under sudo; "
                    + "'scheduler' for cellar serve), on which host, when, what, on which target, and the outcome (ok, refused, failed).",
                    "Audited: backup, delete, keep, prune, recover, verify, archive-wal, switch-wal, rebuild-wal-index, "
                    + "jobs restart, jobs stop, jobs abandon (cron's sweeps and prunes each as their own row)."})
    static final class Audit implements Callable<Integer> {
        @Option(names = "--since", paramLabel = "AGE", description = "Only actions started within AGE: 30m, 12h, 7d, 2w.")
        String since;
        @Option(names = "--action", paramLabel = "ACTION", description = "Only this action, e.g. delete or 'jobs abandon'.")
        String action;
        @Option(names = "--server", description = "Only actions on this server.")
        String server;
        @Option(names = "--outcome", paramLabel = "OUTCOME", description = "Only this outcome: ok, refused or failed.")
        String outcome;
        @Option(names = "--limit", defaultValue = "50", description = "At most this many lines (default ${DEFAULT-VALUE}).")
        int limit;
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            CellarCommand root = CellarCommand.root(spec);
            java.time.Instant after = since == null ? null : java.time.Instant.now().minus(parseAge(spec, since));
            if (outcome != null && !List.of("ok", "refused", "failed").contains(outcome.toLowerCase(Locale.ROOT))) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--outcome: '" + outcome + "' is not an outcome; expected ok, refused or failed");
            }
            if (limit < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--limit: expected a whole number of at least 1");
            }
            List<dev.cellar.audit.AuditEntry> rows = root.cellar().auditEntries(new dev.cellar.audit.AuditLog.Filter(after, action, server, outcome, limit));
            root.output().result(rows, out -> {
                if (rows.isEmpty()) {
                    out.println("No audited actions.");
                    return;
                }
                out.printf("%-5s %-19s %-16s %-16s %-18s %-10s %-24s %-8s %s%n", "ID", "TIME (UTC)", "USER", "HOST", "ACTION", "SERVER", "TARGET",
                        "OUTCOME", "MESSAGE");
                for (dev.cellar.audit.AuditEntry e : rows) {
                    String user = e.user().equals(e.runAs()) ? e.user() : e.user() + "(" + e.runAs() + ")";
                    String message = (e.message() == null ? "" : e.message()) + (e.detail() == null ? "" : " [" + e.detail() + "]");
                    out.printf("%-5d %-19s %-16s %-16s %-18s %-10s %-24s %-8s %s%n", e.id(),
                            e.startedAt().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString().replace('T', ' ').replace("Z", ""),
                            user, e.host(), e.action(), e.server() == null ? "-" : e.server(), e.target() == null ? "-" : e.target(),
                            e.outcome(), message.strip());
                }
            });
            return ExitCode.OK.code();
        }
    }

    static int exitCodeOf(ExecutionSummary s) {
        return switch (s.status()) {
            case "COMPLETED" -> "COMPLETED_WITH_WARNINGS".equals(s.exitCode()) ? ExitCode.WARNING.code() : ExitCode.OK.code();
            default -> ExitCode.FAILED.code();
        };
    }

    static void printDetail(PrintWriter out, ExecutionDetail d) {
        ExecutionSummary s = d.execution();
        out.printf("Execution %d of %s %s%n", s.id(), s.job(), s.identity());
        out.printf("  status:   %s (exit %s)%n", s.status(), s.exitCode());
        out.printf("  started:  %s, ended: %s, took %s%n", Output.time(s.start()), Output.time(s.end()), Output.seconds(s.duration()));
        if (!s.exitMessage().isEmpty()) {
            out.printf("  message:  %s%n", s.exitMessage());
        }
        d.context().forEach((k, v) -> out.printf("  %s = %s%n", k, v));
        for (StepSummary st : d.steps()) {
            out.printf("  step %s: %s, read %d, written %d, commits %d, rollbacks %d, skips %d, took %s%n", st.name(), st.status(),
                    st.readCount(), st.writeCount(), st.commitCount(), st.rollbackCount(), st.skipCount(), Output.seconds(st.duration()));
            if (!st.exitMessage().isEmpty()) {
                out.printf("    message: %s%n", st.exitMessage());
            }
            st.checkpoint().forEach((k, v) -> out.printf("    checkpoint %s = %s%n", k, v));
        }
    }

    private static final Pattern AGE = Pattern.compile("(\\d+)([mhdw])");

    static java.time.Duration parseAge(CommandSpec spec, String text) {
        Matcher m = AGE.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--since: '" + text + "' is not an age; expected e.g. 30m, 12h, 7d, 2w");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "m" -> java.time.Duration.ofMinutes(n);
            case "h" -> java.time.Duration.ofHours(n);
            case "d" -> java.time.Duration.ofDays(n);
            default -> java.time.Duration.ofDays(7 * n);
        };
    }
}
