package dev.cellar.jobs;

import org.springframework.batch.core.job.AbstractJob;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.stereotype.Component;

/**
 * Records the owning process in every job execution before its first step runs, and adds itself
 * to every job of the context, so no job configuration can forget it.
 */
@Component
public class ExecutionOwnerListener implements JobExecutionListener, BeanPostProcessor {

    private final ObjectProvider<JobRepository> jobRepository;

    public ExecutionOwnerListener(ObjectProvider<JobRepository> jobRepository) {
        this.jobRepository = jobRepository;
    }

    @Override
    public void beforeJob(JobExecution jobExecution) {
        ExecutionOwner.current().writeTo(jobExecution.getExecutionContext());
        jobRepository.getObject().updateExecutionContext(jobExecution);
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        if (bean instanceof AbstractJob job) {
            job.registerJobExecutionListener(this);
        }
        return bean;
    }
}
