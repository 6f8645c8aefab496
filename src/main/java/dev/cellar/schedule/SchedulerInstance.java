package dev.cellar.schedule;

import dev.cellar.repository.ProcessOwner;

/**
 * This node's Quartz instance ID: host, pid and process start, so that a node that died and one
 * that took its pid are never confused, and executions record which node launched them.
 */
final class SchedulerInstance {

    private static final String ID = computeId();

    private SchedulerInstance() {
    }

    static String id() {
        return ID;
    }

    private static String computeId() {
        ProcessOwner self = ProcessOwner.current();
        return self.host() + ":" + self.pid() + ":" + self.processStart();
    }
}
