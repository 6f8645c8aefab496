package dev.cellar.jobs;

import dev.cellar.repository.ProcessOwner;
import java.util.List;
import org.springframework.batch.core.job.AbstractJob;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.StepExecution;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.stereotype.Component;

/**
 * Attached to every job of the context (so no job configuration can forget it), it records in
 * the job repository what an operator needs later:
 * <ul>
 *   <li>before the first step, the owning process ({@link ExecutionOwner}), so a crash can be told
 *       from a job still running;</li>
 *   <li>after a failure, the root cause of each failed step under {@value #FAILURE}: Spring Batch
 *       keeps only the first 2,500 characters of a stack trace, which is often only its wrapper
 *       ("Unable to process chunk").</li>
 * </ul>
 */
@Component
public class JobExecutionRecorder implements JobExecutionListener, BeanPostProcessor {

    /** Execution context key: the root cause of a failure, one line. */
    public static final String FAILURE = "cellar.failure";

    private final ObjectProvider<JobRepository> jobRepository;

    public JobExecutionRecorder(ObjectProvider<JobRepository> jobRepository) {
        this.jobRepository = jobRepository;
    }

    @Override
    public void beforeJob(JobExecution jobExecution) {
        ExecutionOwner.writeTo(ProcessOwner.current(), jobExecution.getExecutionContext());
        jobRepository.getObject().updateExecutionContext(jobExecution);
    }

    @Override
    public void afterJob(JobExecution jobExecution) {
        String jobFailure = null;
        for (StepExecution step : jobExecution.getStepExecutions()) {
            List<Throwable> failures = step.getFailureExceptions();
            if (!failures.isEmpty()) {
                String cause = rootCause(failures.get(failures.size() - 1));
                step.getExecutionContext().putString(FAILURE, cause);
                jobRepository.getObject().updateExecutionContext(step);
                jobFailure = step.getStepName() + ": " + cause;
            } else if (step.getExecutionContext().remove(FAILURE) != null) {
                // a restart carries the failed attempt's context over: that failure is not this step's
                jobRepository.getObject().updateExecutionContext(step);
            }
        }
        if (jobFailure == null && !jobExecution.getAllFailureExceptions().isEmpty()) {
            jobFailure = rootCause(jobExecution.getAllFailureExceptions().get(0));
        }
        if (jobFailure != null) {
            jobExecution.getExecutionContext().putString(FAILURE, jobFailure);
            jobRepository.getObject().updateExecutionContext(jobExecution);
        } else if (jobExecution.getExecutionContext().remove(FAILURE) != null) {
            jobRepository.getObject().updateExecutionContext(jobExecution); // likewise: the previous execution's failure
        }
    }

    /** "IllegalStateException: injected fault at item 55": the innermost cause, its simple class name and message. */
    static String rootCause(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() == null ? "" : ": " + root.getMessage().lines().findFirst().orElse("");
        return root.getClass().getSimpleName() + message;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        if (bean instanceof AbstractJob job) {
            job.registerJobExecutionListener(this);
        }
        return bean;
    }
}
