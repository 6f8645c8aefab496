package dev.cellar.audit;

import dev.cellar.repository.ProcessOwner;
import java.util.Map;

/**
 * Who performed an audited action. For an operator: the person, which under {@code sudo} is
 * {@code SUDO_USER} (the account that ran sudo, what an auditor wants to see), else the OS user the
 * process runs as; {@code runAs} is always the OS user of the process (e.g. {@code barman} or
 * {@code postgres} under {@code sudo -u}). For the scheduler ({@code cellar serve}), {@code user}
 * is {@value #SCHEDULER}.
 *
 * @param user  the person (or {@value #SCHEDULER})
 * @param runAs the OS user of the process that acted
 * @param host  the host it ran on
 * @param pid   its process id
 */
public record Actor(String user, String runAs, String host, long pid) {

    /** The user name of actions the scheduler performs. */
    public static final String SCHEDULER = "scheduler";

    /** The operator running this process, given its environment ({@code SUDO_USER}). */
    public static Actor operator(Map<String, String> environment) {
        return operator(environment, System.getProperty("user.name"), ProcessHandle.current().pid());
    }

    /**
     * The operator of process {@code pid} on this host, running as {@code runAs} with {@code environment}: a command
     * that {@code cellar serve} runs for another process (design 2.2).
     */
    public static Actor operator(Map<String, String> environment, String runAs, long pid) {
        String sudo = environment.get("SUDO_USER");
        String user = sudo != null && !sudo.isBlank() && !sudo.equals(runAs) ? sudo : runAs;
        return new Actor(user, runAs, ProcessOwner.localHost(), pid);
    }

    /** The scheduler daemon of this process ({@code cellar serve}). */
    public static Actor scheduler() {
        return new Actor(SCHEDULER, System.getProperty("user.name"), ProcessOwner.localHost(), ProcessHandle.current().pid());
    }

    /**
     * Someone acting through {@code cellar serve}'s page or API: {@code web:<basic-auth user>}, or
     * {@code web:anonymous} when serve has no authentication (loopback only); the host is the
     * client's address.
     */
    public static Actor web(String authenticatedUser, String remoteAddress) {
        return new Actor("web:" + (authenticatedUser == null || authenticatedUser.isBlank() ? "anonymous" : authenticatedUser),
                System.getProperty("user.name"), remoteAddress, ProcessHandle.current().pid());
    }

    @Override
    public String toString() {
        return (user.equals(runAs) ? user : user + " (as " + runAs + ")") + "@" + host;
    }
}
