package dev.cellar.backup;

/** Checks one 8 KiB page of a relation as it is read: PostgreSQL's data checksums, when the cluster has them. */
@FunctionalInterface
public interface PageVerifier {

    /**
     * @param page        the buffer holding the page
     * @param offset      where the page starts in it
     * @param blockNumber the page's number in its relation fork (segment * 131072 + index), which the checksum covers
     * @return true when the page verifies (or need not: new pages, pages written after the backup started)
     */
    boolean verify(byte[] page, int offset, long blockNumber);
}
