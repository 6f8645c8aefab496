package dev.cellar.jobs.testjob;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.springframework.batch.core.configuration.annotation.StepScope;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.builder.JobBuilder;
import org.springframework.batch.core.repository.JobRepository;
import org.springframework.batch.core.step.Step;
import org.springframework.batch.core.step.builder.StepBuilder;
import org.springframework.batch.infrastructure.item.ItemProcessor;
import org.springframework.batch.infrastructure.item.ItemWriter;
import org.springframework.batch.infrastructure.item.support.AbstractItemCountingItemStreamItemReader;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.transaction.PlatformTransactionManager;

/**
 * A test-only job that proves the job framework: one chunk-oriented step counts 1..100 in chunks
 * of 10 and appends each number to a file; {@link #FAIL_AT} injects a fault at one item. The
 * reader saves its position in the step execution context, so a restart resumes after the last
 * committed chunk.
 */
@Configuration
public class CountingJobConfig {

    public static final String JOB = "test-count";
    public static final String STEP = "test-count.count";
    public static final String READER = "test-count.numbers";
    public static final int ITEMS = 100;

    /** The item at which the processor throws; 0 for none. */
    public static volatile int FAIL_AT;

    @Bean
    public Job testCountJob(JobRepository jobRepository, Step testCountStep) {
        return new JobBuilder(JOB, jobRepository).start(testCountStep).build();
    }

    @Bean
    public Step testCountStep(JobRepository jobRepository, PlatformTransactionManager tm,
                              NumberReader numberReader, NumberWriter numberWriter) {
        ItemProcessor<Integer, Integer> faulty = n -> {
            if (n == FAIL_AT) {
                throw new IllegalStateException("injected fault at item " + n);
            }
            return n;
        };
        return new StepBuilder(STEP, jobRepository).<Integer, Integer>chunk(10).transactionManager(tm)
                .reader(numberReader).processor(faulty).writer(numberWriter).build();
    }

    @Bean
    @StepScope
    public NumberReader numberReader() {
        NumberReader r = new NumberReader();
        r.setName(READER);
        r.setMaxItemCount(ITEMS);
        return r;
    }

    @Bean
    @StepScope
    public NumberWriter numberWriter(@Value("#{jobParameters['out']}") String out) {
        return new NumberWriter(Path.of(out));
    }

    /** Appends each number to a file, one per line (a class, not a lambda: a step-scoped interface draws Spring Batch's warning). */
    public static class NumberWriter implements ItemWriter<Integer> {
        private final Path out;

        NumberWriter(Path out) {
            this.out = out;
        }

        @Override
        public void write(org.springframework.batch.infrastructure.item.Chunk<? extends Integer> chunk) {
            StringBuilder sb = new StringBuilder();
            chunk.forEach(n -> sb.append(n).append('\n'));
            try {
                Files.writeString(out, sb, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Reads 1, 2, ... ; its count is its checkpoint. */
    public static class NumberReader extends AbstractItemCountingItemStreamItemReader<Integer> {
        @Override
        protected Integer doRead() {
            return getCurrentItemCount();
        }

        @Override
        protected void jumpToItem(int itemIndex) {
            // nothing to skip: the count alone is the position
        }

        @Override
        protected void doOpen() {
        }

        @Override
        protected void doClose() {
        }
    }
}
