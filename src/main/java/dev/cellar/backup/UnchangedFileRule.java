package dev.cellar.backup;

import dev.cellar.repository.BackupInfo;
import dev.cellar.repository.ManifestEntry;
import java.time.Instant;
import java.util.Optional;

/**
 * When an incremental may take a file from its parent without reading it, as pgBackRest decides:
 * same size and same modification time as in the parent, and none of the anomalies that make a
 * timestamp untrustworthy:
 * <ul>
 *   <li>a modification time at or after the parent backup's start (the file may have changed while
 *       the parent copied it, within the timestamp's granularity);</li>
 *   <li>a modification time in the future (a clock that went backwards);</li>
 *   <li>a timeline change since the parent (a promotion rewrites files in ways timestamps may not show).</li>
 * </ul>
 * A file whose size changed but whose mtime did not, or whose mtime went backwards, differs from the
 * parent's entry and is read in full anyway.
 */
public final class UnchangedFileRule {

    /** Slack for coarse file system timestamps. */
    static final long GRANULARITY_MILLIS = 1000;

    private final BackupInfo parent;
    private final int currentTimeline;
    private final Instant now;

    public UnchangedFileRule(BackupInfo parent, int currentTimeline, Instant now) {
        this.parent = parent;
        this.currentTimeline = currentTimeline;
        this.now = now;
    }

    /** The parent's entry, carrying the current mode, when the file can be reused without reading it. */
    public Optional<ManifestEntry> reuse(DataDirectoryScanner.SourceFile file, ManifestEntry inParent) {
        if (parent == null || inParent == null || inParent.type() != ManifestEntry.Type.FILE || file.type() != ManifestEntry.Type.FILE) {
            return Optional.empty();
        }
        if (parent.timeline() != currentTimeline) {
            return Optional.empty();
        }
        if (inParent.size() != file.size() || inParent.mtime() != file.mtime()) {
            return Optional.empty();
        }
        if (file.mtime() >= parent.startTime().toEpochMilli() - GRANULARITY_MILLIS || file.mtime() > now.toEpochMilli()) {
            return Optional.empty();
        }
        return Optional.of(new ManifestEntry(inParent.path(), inParent.type(), inParent.size(), inParent.mtime(), file.mode(),
                inParent.sha256(), inParent.blockSize(), inParent.blockChecksums(), inParent.runs(), null, inParent.pageFailures()));
    }
}
