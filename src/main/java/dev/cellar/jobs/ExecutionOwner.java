package dev.cellar.jobs;

import dev.cellar.repository.ProcessOwner;
import java.util.Optional;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.infrastructure.item.ExecutionContext;

/**
 * The process that runs a job execution, recorded in its execution context (host, pid and the
 * process's start time, so that a recycled pid is not mistaken for the owner). At start-up an
 * execution left STARTED whose owner was this host and is no longer alive is known to be dead.
 * The liveness rule is {@link ProcessOwner}'s, shared with the repository's locks.
 */
final class ExecutionOwner {

    static final String HOST = "cellar.owner.host";
    static final String PID = "cellar.owner.pid";
    static final String PROCESS_START = "cellar.owner.process-start";
    /** The thread that launched it (in {@code cellar serve}: a command's {@code cellar-command-N}, or a Quartz worker). */
    static final String THREAD = "cellar.owner.thread";
    /** The Quartz scheduler instance ({@code cellar serve} node) that launched the execution, when one did. */
    static final String SCHEDULER = "cellar.owner.scheduler";

    private ExecutionOwner() {
    }

    static void writeTo(ProcessOwner owner, ExecutionContext ctx) {
        ctx.putString(HOST, owner.host());
        ctx.putLong(PID, owner.pid());
        ctx.putLong(PROCESS_START, owner.processStart());
        ctx.putString(THREAD, Thread.currentThread().getName());
        String scheduler = System.getProperty(ProcessOwner.NODE_PROPERTY);
        if (scheduler != null) {
            ctx.putString(SCHEDULER, scheduler);
        } else {
            ctx.remove(SCHEDULER);
        }
    }

    /** The scheduler instance that ran the execution, if a {@code cellar serve} node did. */
    static Optional<String> schedulerOf(JobExecution execution) {
        return Optional.ofNullable(execution.getExecutionContext().getString(SCHEDULER, null));
    }

    static Optional<ProcessOwner> of(JobExecution execution) {
        ExecutionContext ctx = execution.getExecutionContext();
        if (!ctx.containsKey(HOST) || !ctx.containsKey(PID)) {
            return Optional.empty();
        }
        return Optional.of(new ProcessOwner(ctx.getString(HOST), ctx.getLong(PID), ctx.getLong(PROCESS_START, 0L)));
    }
}
