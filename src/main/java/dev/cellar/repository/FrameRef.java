package dev.cellar.repository;

/**
 * Where one stored frame lives: in which bundle, at which offset, how long it is stored and raw,
 * how it is compressed, and the XXH64 of its stored bytes (checked before decoding).
 *
 * @param bundle bundle path relative to the server directory: {@code backups/<ID>/bundles/<name>}
 */
public record FrameRef(String bundle, long offset, int storedLength, int rawLength, FrameCodec.Codec codec, long checksum) {
}
