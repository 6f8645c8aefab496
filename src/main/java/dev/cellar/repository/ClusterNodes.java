package dev.cellar.repository;

import java.util.function.Predicate;

/**
 * What this process knows of the {@code cellar serve} nodes of a cluster: which are dead (they
 * stopped checking in, and the cluster has taken their work over). A clustered {@code serve}
 * installs the rule at start-up; elsewhere no node is ever judged dead. A repository lock taken by
 * a dead node of another host is stale, as a lock of a dead process of this host is: without this,
 * a job recovered on another host would wait on its dead predecessor's lock until an operator
 * removed it.
 */
public final class ClusterNodes {

    private static volatile Predicate<String> dead = node -> false;

    private ClusterNodes() {
    }

    /** Installs the rule (by {@code cellar serve} on a clustered catalog). */
    public static void install(Predicate<String> isDead) {
        dead = isDead;
    }

    public static boolean isDead(String node) {
        return node != null && !node.isEmpty() && dead.test(node);
    }
}
