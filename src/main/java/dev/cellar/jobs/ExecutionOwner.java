package dev.cellar.jobs;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.Optional;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.infrastructure.item.ExecutionContext;

/**
 * The process that runs a job execution, recorded in its execution context (host, pid and the
 * process's start time, so that a recycled pid is not mistaken for the owner). At start-up an
 * execution left STARTED whose owner was this host and is no longer alive is known to be dead.
 */
public record ExecutionOwner(String host, long pid, long processStart) {

    static final String HOST = "cellar.owner.host";
    static final String PID = "cellar.owner.pid";
    static final String PROCESS_START = "cellar.owner.process-start";

    public static ExecutionOwner current() {
        ProcessHandle self = ProcessHandle.current();
        return new ExecutionOwner(localHost(), self.pid(), startOf(self));
    }

    static String localHost() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    private static long startOf(ProcessHandle p) {
        return p.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    }

    void writeTo(ExecutionContext ctx) {
        ctx.putString(HOST, host);
        ctx.putLong(PID, pid);
        ctx.putLong(PROCESS_START, processStart);
    }

    static Optional<ExecutionOwner> of(JobExecution execution) {
        ExecutionContext ctx = execution.getExecutionContext();
        if (!ctx.containsKey(HOST) || !ctx.containsKey(PID)) {
            return Optional.empty();
        }
        return Optional.of(new ExecutionOwner(ctx.getString(HOST), ctx.getLong(PID), ctx.getLong(PROCESS_START, 0L)));
    }

    /** True when this owner ran on this host and that process is gone (or its pid now belongs to another process). */
    boolean isDeadLocalProcess() {
        if (!host.equals(localHost())) {
            return false;
        }
        Optional<ProcessHandle> p = ProcessHandle.of(pid);
        if (p.isEmpty() || !p.get().isAlive()) {
            return true;
        }
        long start = startOf(p.get());
        return processStart != 0 && start != 0 && Math.abs(start - processStart) > 1000;
    }
}
