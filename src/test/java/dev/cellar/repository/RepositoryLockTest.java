package dev.cellar.repository;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cellar.storage.LocalStorage;
import dev.cellar.storage.Storage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Who may take a lock over: a dead process of this host, a node its cluster found dead; nobody else. */
class RepositoryLockTest {

    @TempDir
    Path dir;

    @AfterEach
    void forget() {
        ClusterNodes.install(node -> false);
    }

    private Storage heldByAnotherHost(String node) throws Exception {
        Storage storage = new LocalStorage(dir);
        String body = "{\"host\":\"elsewhere\",\"pid\":1,\"process-start\":1,\"time\":\"2026-11-27T03:00:00Z\",\"purpose\":\"base-backup\",\"token\":\"t\""
                + (node == null ? "" : ",\"node\":\"" + node + "\"") + "}";
        storage.write("main/locks/backup.json", body.getBytes(StandardCharsets.UTF_8), Storage.IfExists.FAIL);
        return storage;
    }

    @Test
    void aLockOfAnotherHostIsRespected() throws Exception {
        Storage storage = heldByAnotherHost(null);
        ClusterNodes.install(node -> true);
        assertThatThrownBy(() -> RepositoryLock.acquire(storage, "main", "backup", "test"))
                .isInstanceOf(RepositoryLock.HeldException.class)
                .hasMessageContaining("held by elsewhere pid 1");
    }

    @Test
    void aLockOfANodeItsClusterFoundDeadIsTakenOver() throws Exception {
        Storage storage = heldByAnotherHost("elsewhere:1:1");
        ClusterNodes.install(node -> node.equals("elsewhere:1:1"));
        try (RepositoryLock lock = RepositoryLock.acquire(storage, "main", "backup", "test")) {
            assertThat(new String(storage.readAll("main/locks/backup.json"), StandardCharsets.UTF_8)).contains("\"purpose\":\"test\"");
        }
    }

    @Test
    void aLockOfALiveNodeIsRespected() throws Exception {
        Storage storage = heldByAnotherHost("elsewhere:1:1");
        ClusterNodes.install(node -> node.equals("some-other-node"));
        assertThatThrownBy(() -> RepositoryLock.acquire(storage, "main", "backup", "test")).isInstanceOf(RepositoryLock.HeldException.class);
    }
}
