package dev.cellar.wal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cellar.postgres.WalSegmentName;
import dev.cellar.repository.MetadataFile;
import dev.cellar.repository.RepositoryLayout;
import dev.cellar.storage.Storage;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The WAL index ({@code wal/index.json}, a metadata document saved twice like every other): per
 * timeline, the ranges of archived segment numbers; the names of history, {@code .partial} and
 * {@code .backup} files. It answers "is every segment from X to Y on timeline T archived?" and
 * "what is the newest segment?" without listing the archive, which on remote storage means
 * thousands of requests.
 *
 * <p>It is a cache of the repository, never the truth: the sweep records files in it after they are
 * stored (so the index never names a file that is not there, short of an operator deleting one);
 * {@code cellar rebuild-wal-index} rebuilds it from the listing; a reader that finds it missing
 * rebuilds it; and a restore that would refuse because the index lacks a segment first checks the
 * segment's own path. Writers hold the server's {@code archive} lock.
 */
public final class WalIndex {

    static final String KIND = "wal-index";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the index holds. Ranges are inclusive segment numbers, sorted, disjoint and not adjacent. */
    public record Snapshot(long walSegmentSize, Map<Integer, List<long[]>> ranges, TreeSet<String> otherFiles, Instant updated) {

        public boolean contains(int timeline, long segment) {
            for (long[] r : ranges.getOrDefault(timeline, List.of())) {
                if (segment >= r[0] && segment <= r[1]) {
                    return true;
                }
                if (segment < r[0]) {
                    return false;
                }
            }
            return false;
        }

        public boolean contains(String segmentName) {
            WalSegmentName s = WalSegmentName.parse(segmentName);
            return contains(s.timeline(), s.segmentNumber(walSegmentSize));
        }

        /** The newest segment number of a timeline, or -1. */
        public long newest(int timeline) {
            List<long[]> r = ranges.getOrDefault(timeline, List.of());
            return r.isEmpty() ? -1 : r.get(r.size() - 1)[1];
        }

        public long segmentCount() {
            return ranges.values().stream().flatMap(List::stream).mapToLong(r -> r[1] - r[0] + 1).sum();
        }

        /** Every file the index names, in WAL order (segments expanded from their ranges). */
        public List<WalFileName> files() {
            List<WalFileName> out = new ArrayList<>();
            ranges.forEach((tli, list) -> list.forEach(r -> {
                for (long n = r[0]; n <= r[1]; n++) {
                    out.add(WalFileName.parse(WalSegmentName.ofSegmentNumber(tli, n, walSegmentSize).toString()).orElseThrow());
                }
            }));
            otherFiles.forEach(n -> WalFileName.parse(n).ifPresent(out::add));
            out.sort(null);
            return out;
        }

        Snapshot with(Collection<WalFileName> added) {
            Map<Integer, TreeSet<Long>> extra = new TreeMap<>();
            TreeSet<String> others = new TreeSet<>(otherFiles);
            for (WalFileName f : added) {
                if (f.kind() == WalFileName.Kind.SEGMENT) {
                    extra.computeIfAbsent(f.timeline(), t -> new TreeSet<>()).add(f.segment().orElseThrow().segmentNumber(walSegmentSize));
                } else {
                    others.add(f.name());
                }
            }
            Map<Integer, List<long[]>> merged = new TreeMap<>(ranges);
            extra.forEach((tli, numbers) -> {
                List<long[]> all = new ArrayList<>(merged.getOrDefault(tli, List.of()));
                numbers.forEach(n -> all.add(new long[] {n, n}));
                merged.put(tli, merge(all));
            });
            return new Snapshot(walSegmentSize, merged, others, Instant.now());
        }
    }

    private WalIndex() {
    }

    public static String path(String server) {
        return RepositoryLayout.walDir(server) + "/index.json";
    }

    public static Optional<Snapshot> read(Storage storage, String server) throws IOException {
        Optional<JsonNode> doc = MetadataFile.read(storage, path(server), KIND);
        if (doc.isEmpty()) {
            return Optional.empty();
        }
        JsonNode n = doc.get();
        Map<Integer, List<long[]>> ranges = new TreeMap<>();
        n.path("timelines").fields().forEachRemaining(e -> {
            List<long[]> list = new ArrayList<>();
            e.getValue().forEach(r -> list.add(new long[] {r.get(0).asLong(), r.get(1).asLong()}));
            ranges.put(Integer.parseInt(e.getKey()), merge(list));
        });
        TreeSet<String> others = new TreeSet<>();
        n.path("other-files").forEach(f -> others.add(f.asText()));
        return Optional.of(new Snapshot(n.path("segment-size").asLong(), ranges, others, Instant.parse(n.path("updated").asText())));
    }

    /** The index, rebuilt from the listing when it does not exist yet (callers hold the archive lock). */
    public static Snapshot readOrRebuild(Storage storage, String server, long walSegmentSize) throws IOException {
        Optional<Snapshot> s;
        try {
            s = read(storage, server);
        } catch (dev.cellar.repository.RepositoryFormatException damaged) {
            s = Optional.empty(); // a cache: both copies damaged means rebuild, never stop archiving
        }
        return s.isPresent() ? s.get() : rebuild(storage, server, walSegmentSize);
    }

    /** For readers (no lock): the index, or the same answers computed from the listing when there is none yet; writes nothing. */
    public static Snapshot readOrList(Storage storage, String server, long walSegmentSize) throws IOException {
        Optional<Snapshot> s = read(storage, server);
        return s.isPresent() ? s.get() : fromListing(storage, server, walSegmentSize);
    }

    static Snapshot fromListing(Storage storage, String server, long walSegmentSize) throws IOException {
        return new Snapshot(walSegmentSize, new TreeMap<>(), new TreeSet<>(), Instant.now()).with(new WalArchive(storage, server, 3).list());
    }

    /** Rebuilds the index from the repository's listing of the server's WAL ({@code cellar rebuild-wal-index}). */
    public static Snapshot rebuild(Storage storage, String server, long walSegmentSize) throws IOException {
        Snapshot s = fromListing(storage, server, walSegmentSize);
        write(storage, server, s);
        return s;
    }

    /** Records files just stored (or found already stored); returns the new snapshot. */
    public static Snapshot record(Storage storage, String server, long walSegmentSize, Collection<WalFileName> stored) throws IOException {
        Snapshot before = readOrRebuild(storage, server, walSegmentSize);
        if (stored.isEmpty()) {
            return before;
        }
        Snapshot after = before.with(stored);
        write(storage, server, after);
        return after;
    }

    private static void write(Storage storage, String server, Snapshot s) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("segment-size", s.walSegmentSize());
        n.put("updated", s.updated().toString());
        ObjectNode timelines = n.putObject("timelines");
        s.ranges().forEach((tli, list) -> {
            ArrayNode a = timelines.putArray(Integer.toString(tli));
            list.forEach(r -> a.addArray().add(r[0]).add(r[1]));
        });
        ArrayNode others = n.putArray("other-files");
        s.otherFiles().forEach(others::add);
        MetadataFile.write(storage, path(server), KIND, n);
    }

    private static List<long[]> merge(List<long[]> ranges) {
        List<long[]> sorted = new ArrayList<>(ranges);
        sorted.sort((a, b) -> Long.compare(a[0], b[0]));
        List<long[]> out = new ArrayList<>();
        for (long[] r : sorted) {
            if (!out.isEmpty() && r[0] <= out.get(out.size() - 1)[1] + 1) {
                long[] last = out.get(out.size() - 1);
                last[1] = Math.max(last[1], r[1]);
            } else {
                out.add(new long[] {r[0], r[1]});
            }
        }
        return out;
    }
}
