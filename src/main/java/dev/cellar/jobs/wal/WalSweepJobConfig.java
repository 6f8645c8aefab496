package dev.cellar.jobs.wal;

import dev.cellar.config.CellarSettings;
import java.nio.file.Path;
import org.springframework.batch.core.configuration.annotation.StepScope;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.Step;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * The wal-sweep job (jobs/wal-sweep.yaml): one chunk-oriented step over the spool in WAL order.
 * Identity: server + run (the launch time). A failed run is restarted by the next
 * {@code cellar archive-wal}; it finds what is left in the spool.
 */
@Configuration(proxyBeanMethods = false)
public class WalSweepJobConfig {

    public static final String JOB = "wal-sweep";
    public static final String SWEEP = "wal-sweep.sweep";

    /** Job parameter: when the run was launched (identifying, with server). */
    public static final String RUN = "run";

    /** Checkpoint keys of the step execution context. */
    public static final String LAST_ARCHIVED = "wal-sweep.last-archived-segment";
    public static final String ARCHIVED = "wal-sweep.archived";
    public static final String BYTES = "wal-sweep.bytes";
    public static final String PROBLEMS = "wal-sweep.problems";

    /** Exit code of a run that archived what it could but kept files in wal-errors. */
    public static final String COMPLETED_WITH_WARNINGS = "COMPLETED_WITH_WARNINGS";

    static final int CHUNK = 8;

    @Bean
    public Job walSweepJob(JobRepository repo, Step walSweepStep, CellarSettings settings) {
        return new JobBuilder(JOB, repo)
                .listener(new dev.cellar.jobs.JobHooks(settings, repo, dev.cellar.hooks.Hook.ARCHIVE, WalSweepJobConfig::hookVariables))
                .start(walSweepStep).build();
    }

    /** After the run, CELLAR_WAL_ARCHIVED: how many WAL files it archived. */
    static java.util.Map<String, String> hookVariables(org.springframework.batch.core.job.JobExecution execution, dev.cellar.hooks.Hook.Phase phase) {
        if (phase == dev.cellar.hooks.Hook.Phase.PRE) {
            return java.util.Map.of();
        }
        long archived = execution.getStepExecutions().stream()
                .mapToLong(s -> s.getExecutionContext().containsKey(ARCHIVED) ? s.getExecutionContext().getLong(ARCHIVED) : 0).sum();
        return java.util.Map.of("CELLAR_WAL_ARCHIVED", Long.toString(archived));
    }

    @Bean
    public Step walSweepStep(JobRepository repo, PlatformTransactionManager tm, SpoolSweeper spoolSweeper) {
        return new StepBuilder(SWEEP, repo).<Path, Path>chunk(CHUNK).transactionManager(tm)
                .reader(spoolSweeper).writer(spoolSweeper).listener(spoolSweeper).build();
    }

    @Bean
    @StepScope
    public SpoolSweeper spoolSweeper(CellarSettings settings, @Value("#{jobParameters['server']}") String server) {
        return new SpoolSweeper(settings, server);
    }
}
