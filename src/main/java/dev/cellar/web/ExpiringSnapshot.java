package dev.cellar.web;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Function;

/**
 * A value read at most once per {@code maxAge}, however many pages, scrapes and health probes ask,
 * and read again after {@link #invalidate()} (an action that changed what it shows).
 */
final class ExpiringSnapshot<T> {

    private final Clock clock;
    private final Duration maxAge;
    private final Function<Instant, T> read;
    private T value;
    private Instant readAt = Instant.MIN;

    ExpiringSnapshot(Clock clock, Duration maxAge, Function<Instant, T> read) {
        this.clock = clock;
        this.maxAge = maxAge;
        this.read = read;
    }

    synchronized T get() {
        Instant now = clock.instant();
        if (value == null || !now.isBefore(readAt.plus(maxAge))) {
            value = read.apply(now);
            readAt = now;
        }
        return value;
    }

    synchronized void invalidate() {
        value = null;
    }
}
