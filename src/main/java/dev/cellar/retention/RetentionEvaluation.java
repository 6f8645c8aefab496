package dev.cellar.retention;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Barman's retention semantics over a server's committed backups (docs/retention.md), as a pure
 * function: which backups the policy requires, which it does not, and why.
 *
 * <ul>
 *   <li>{@code REDUNDANCY n}: the newest n backups are VALID, older ones OBSOLETE; n is raised to
 *       {@code minimum-redundancy}.</li>
 *   <li>{@code RECOVERY WINDOW OF ...}: the point of recoverability PoR = now - window; every backup
 *       that ended at or after PoR is VALID, and so is the newest one that ended before it (what lets
 *       a restore reach PoR: a KEEP:FULL one serves, a KEEP:STANDALONE one does not); older ones
 *       are OBSOLETE, except while fewer than {@code minimum-redundancy} backups have been counted.</li>
 *   <li>Kept backups are never obsolete, and count toward both.</li>
 *   <li>An obsolete backup whose blocks a retained backup references stays (NEEDED) as long as that
 *       one does: incrementals share the fate of what they depend on.</li>
 * </ul>
 */
public final class RetentionEvaluation {

    /**
     * One committed backup as retention sees it.
     *
     * @param dependsOn IDs of the backups whose stored blocks this one's manifest references (its chain)
     */
    public record Candidate(String id, Instant stopTime, Set<String> dependsOn, KeepTarget keep) {
    }

    /** The verdict on one backup. */
    public record Verdict(String id, RetentionStatus status, String reason) {
    }

    private RetentionEvaluation() {
    }

    /** Verdicts in the order given (oldest first). */
    public static List<Verdict> evaluate(List<Candidate> oldestFirst, RetentionPolicy policy, int minimumRedundancy, Instant now) {
        List<Candidate> newestFirst = new ArrayList<>(oldestFirst);
        java.util.Collections.reverse(newestFirst);
        Map<String, Verdict> verdicts = new LinkedHashMap<>();
        int minimum = Math.max(1, minimumRedundancy);
        if (policy instanceof RetentionPolicy.Redundancy r) {
            int n = Math.max(r.count(), minimum);
            int counted = 0;
            for (Candidate c : newestFirst) {
                counted++;
                if (c.keep() != null) {
                    verdicts.put(c.id(), kept(c));
                } else if (counted <= n) {
                    verdicts.put(c.id(), new Verdict(c.id(), RetentionStatus.VALID, "one of the newest " + n
                            + (n > r.count() ? " (minimum-redundancy " + minimum + ")" : "")));
                } else {
                    verdicts.put(c.id(), new Verdict(c.id(), RetentionStatus.OBSOLETE, "older than the newest " + n));
                }
            }
        } else {
            RetentionPolicy.RecoveryWindow w = (RetentionPolicy.RecoveryWindow) policy;
            Instant por = now.minus(w.window());
            boolean beforePorTaken = false;
            int counted = 0;
            for (Candidate c : newestFirst) {
                counted++;
                if (c.keep() != null) {
                    verdicts.put(c.id(), kept(c));
                    // Only a backup kept with all WAL after it lets a restore reach PoR: a standalone keep
                    // retains just its own WAL, so the newest non-standalone backup before PoR stays VALID.
                    beforePorTaken |= c.keep() == KeepTarget.FULL && c.stopTime().isBefore(por);
                } else if (!c.stopTime().isBefore(por)) {
                    verdicts.put(c.id(), new Verdict(c.id(), RetentionStatus.VALID, "within the recovery window (ended after " + por + ")"));
                } else if (!beforePorTaken) {
                    beforePorTaken = true;
                    verdicts.put(c.id(), new Verdict(c.id(), RetentionStatus.VALID, "the newest backup ending before the point of recoverability "
                            + por + ": recovery to it starts here"));
                } else if (counted <= minimum) {
                    verdicts.put(c.id(), new Verdict(c.id(), RetentionStatus.VALID, "outside the window, kept for minimum-redundancy " + minimum));
                } else {
                    verdicts.put(c.id(), new Verdict(c.id(), RetentionStatus.OBSOLETE, "ended before " + por
                            + " and a newer backup also does"));
                }
            }
        }
        // Incrementals share the fate of their chain: what a retained backup references stays.
        Map<String, Candidate> byId = new LinkedHashMap<>();
        oldestFirst.forEach(c -> byId.put(c.id(), c));
        Deque<String> work = new ArrayDeque<>();
        verdicts.values().stream().filter(v -> v.status().retained()).forEach(v -> work.add(v.id()));
        while (!work.isEmpty()) {
            String id = work.poll();
            for (String dep : byId.get(id).dependsOn()) {
                Verdict v = verdicts.get(dep);
                if (v != null && v.status() == RetentionStatus.OBSOLETE) {
                    verdicts.put(dep, new Verdict(dep, RetentionStatus.NEEDED, "obsolete, but backup " + id + " references its blocks"));
                    work.add(dep);
                }
            }
        }
        List<Verdict> out = new ArrayList<>();
        oldestFirst.forEach(c -> out.add(verdicts.get(c.id())));
        return out;
    }

    private static Verdict kept(Candidate c) {
        return c.keep() == KeepTarget.FULL ? new Verdict(c.id(), RetentionStatus.KEEP_FULL, "kept with all WAL after it")
                : new Verdict(c.id(), RetentionStatus.KEEP_STANDALONE, "kept with the WAL from its begin to its end");
    }
}
