package dev.cellar.jobs;

import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.scope.context.ChunkContext;
import org.springframework.batch.core.step.Step;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.batch.infrastructure.repeat.RepeatStatus;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.interceptor.DefaultTransactionAttribute;

/**
 * One-shot tasklet steps as Cellar's jobs use them: run outside a transaction (long work reports
 * progress into its step context as it goes), failed by every exception, and run again on every
 * restart (each step checks the job context for what is already done).
 */
public final class TaskletSteps {

    /** The work of one step. */
    public interface Work {
        void run(ChunkContext chunk, StepExecution step) throws Exception;
    }

    private TaskletSteps() {
    }

    /**
     * No transaction around the tasklet, and rollback (failure) on every exception: a plain
     * {@link DefaultTransactionAttribute} treats checked exceptions (an IOException such as "No space
     * left on device") as success, and the tasklet would run again, forever.
     */
    public static DefaultTransactionAttribute noTransaction() {
        return new DefaultTransactionAttribute(TransactionDefinition.PROPAGATION_NOT_SUPPORTED) {
            @Override
            public boolean rollbackOn(Throwable ex) {
                return true;
            }
        };
    }

    public static Step oneShot(String name, JobRepository repo, PlatformTransactionManager tm, Work work) {
        return new StepBuilder(name, repo).tasklet((contribution, chunk) -> {
            work.run(chunk, chunk.getStepContext().getStepExecution());
            return RepeatStatus.FINISHED;
        }, tm).transactionAttribute(noTransaction()).allowStartIfComplete(true).build();
    }
}
