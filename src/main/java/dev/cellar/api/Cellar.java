package dev.cellar.api;

import dev.cellar.check.CheckReport;
import dev.cellar.check.ServerChecker;
import dev.cellar.config.CellarSettings;
import dev.cellar.jobs.ExecutionDetail;
import dev.cellar.jobs.ExecutionSummary;
import dev.cellar.jobs.JobHistory;
import dev.cellar.jobs.JobRuntime;
import dev.cellar.postgres.PostgresConnector;
import java.util.List;
import org.springframework.batch.core.job.JobExecution;

/**
 * The one facade every front end uses (the CLI, the scheduler, tests), in the spirit of Flyway's:
 * {@code Cellar.open(settings).check("main")}. Verbs that need the job repository start it on
 * first use; verbs that do not (check, configuration validation) never pay for it.
 */
public final class Cellar implements AutoCloseable {

    private final CellarSettings settings;
    private final PostgresConnector connector;
    private JobRuntime jobs;

    public Cellar(CellarSettings settings, PostgresConnector connector) {
        this.settings = settings;
        this.connector = connector;
    }

    public static Cellar open(CellarSettings settings) {
        return new Cellar(settings, PostgresConnector.fromProcess());
    }

    public CellarSettings settings() {
        return settings;
    }

    /** {@code cellar check SERVER}. */
    public CheckReport check(String server) {
        return new ServerChecker(connector, settings.requireRepository()).check(settings.server(server));
    }

    /** {@code cellar jobs list}. */
    public List<ExecutionSummary> listJobs(JobHistory.Filter filter) {
        return jobs().history().list(filter);
    }

    /** {@code cellar jobs show}. */
    public ExecutionDetail showJob(long executionId) {
        return jobs().history().show(executionId);
    }

    /** {@code cellar jobs restart}: runs the restarted execution to its end and describes it. */
    public ExecutionDetail restartJob(long executionId) {
        JobExecution e = jobs().launcher().restart(executionId);
        return jobs().history().show(e.getId());
    }

    /** {@code cellar jobs stop}. */
    public ExecutionDetail stopJob(long executionId) {
        jobs().launcher().stop(executionId);
        return jobs().history().show(executionId);
    }

    /** {@code cellar jobs abandon}. */
    public ExecutionDetail abandonJob(long executionId) {
        jobs().launcher().abandon(executionId);
        return jobs().history().show(executionId);
    }

    /** The job runtime, started on first use. */
    public synchronized JobRuntime jobs() {
        if (jobs == null) {
            jobs = JobRuntime.start(settings);
        }
        return jobs;
    }

    @Override
    public synchronized void close() {
        if (jobs != null) {
            jobs.close();
            jobs = null;
        }
    }
}
