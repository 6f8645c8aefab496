package dev.cellar.repository;

/** Where a block's bytes already are: block {@code frameBlock} of {@code frame}, {@code length} bytes. */
public record StoredBlock(FrameRef frame, int frameBlock, int length) {
}
