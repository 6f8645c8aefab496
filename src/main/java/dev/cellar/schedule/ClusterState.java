package dev.cellar.schedule;

import java.util.HashSet;
import java.util.Set;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The nodes of a clustered {@code cellar serve}, from Quartz's own table: a node checks in every
 * {@code cluster-checkin-interval}, and once the others find it dead and take its work over, Quartz
 * deletes its row. A node absent from the table is dead (or never was a node).
 */
@Component
public class ClusterState {

    private static final Logger log = LoggerFactory.getLogger(ClusterState.class);

    private final JdbcTemplate catalog;

    public ClusterState(DataSource catalogDataSource) {
        this.catalog = new JdbcTemplate(catalogDataSource);
    }

    public Set<String> liveNodes() {
        return new HashSet<>(catalog.queryForList("SELECT INSTANCE_NAME FROM QRTZ_SCHEDULER_STATE WHERE SCHED_NAME = ?", String.class,
                SchedulerConfiguration.SCHEDULER_NAME));
    }

    /** True when {@code node} is another node that no longer checks in; false when unsure (the catalog cannot be read). */
    public boolean isDead(String node) {
        if (node.equals(SchedulerInstance.id())) {
            return false;
        }
        try {
            return !liveNodes().contains(node);
        } catch (RuntimeException e) {
            log.warn("Cannot read the cluster's nodes: {}", e.getMessage());
            return false;
        }
    }
}
