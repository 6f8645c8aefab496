package dev.cellar.repository;

/**
 * Blocks {@code [firstBlock, firstBlock + count)} of a file are stored in {@code frame}, starting
 * at the frame's block {@code frameBlock} (a frame of an earlier backup may serve only some of its
 * blocks to a later one).
 */
public record BlockRun(int firstBlock, int count, FrameRef frame, int frameBlock) {

    public int endBlock() {
        return firstBlock + count;
    }
}
