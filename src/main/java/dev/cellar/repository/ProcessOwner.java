package dev.cellar.repository;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.Optional;

/**
 * A process that holds something (a repository lock, a job execution): its host, pid and start
 * time. The start time tells a live owner from a recycled pid.
 */
public record ProcessOwner(String host, long pid, long processStart) {

    /**
     * System property: the host name Cellar records for its locks and job executions, instead of
     * the machine's (a container whose host name changes at every start; set it through
     * {@code CELLAR_JAVA_OPTS=-Dcellar.host=db-backup-1}).
     */
    public static final String HOST_PROPERTY = "cellar.host";
    /** System property set by {@code cellar serve}: its scheduler node ID, recorded in the locks and executions it takes. */
    public static final String NODE_PROPERTY = "cellar.scheduler.instance";

    public static ProcessOwner current() {
        ProcessHandle self = ProcessHandle.current();
        return new ProcessOwner(localHost(), self.pid(), startOf(self));
    }

    public static String localHost() {
        String configured = System.getProperty(HOST_PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return configured.strip();
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    private static long startOf(ProcessHandle p) {
        return p.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    }

    /** True when this owner ran on this host and is gone (or its pid now belongs to another process). Other hosts' owners are never judged. */
    public boolean isDeadLocalProcess() {
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
