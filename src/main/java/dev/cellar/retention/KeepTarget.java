package dev.cellar.retention;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cellar.repository.MetadataFile;
import dev.cellar.repository.RepositoryLayout;
import dev.cellar.storage.Storage;
import java.io.IOException;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * A keep annotation ({@code backups/<ID>/keep.json}, saved twice like all metadata): the backup is
 * retained whatever the policy says, with all WAL after it ({@code full}) or only the WAL from its
 * begin to its end ({@code standalone}).
 */
public enum KeepTarget {
    FULL, STANDALONE;

    static final String KIND = "keep";

    public static KeepTarget parse(String text) {
        try {
            return valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new IllegalArgumentException("--target must be full or standalone, not '" + text + "'");
        }
    }

    public static String path(String server, String id) {
        return RepositoryLayout.backupsDir(server) + "/" + id + "/keep.json";
    }

    public static Optional<KeepTarget> read(Storage storage, String server, String id) throws IOException {
        return MetadataFile.read(storage, path(server, id), KIND).map(n -> parse(n.path("target").asText()));
    }

    public void write(Storage storage, String server, String id) throws IOException {
        ObjectNode n = JsonNodeFactory.instance.objectNode();
        n.put("target", name().toLowerCase(Locale.ROOT));
        n.put("since", Instant.now().toString());
        MetadataFile.write(storage, path(server, id), KIND, n);
    }

    public static boolean release(Storage storage, String server, String id) throws IOException {
        boolean a = storage.delete(path(server, id));
        boolean b = storage.delete(RepositoryLayout.copyOf(path(server, id)));
        return a || b;
    }
}
