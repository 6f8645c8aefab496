package dev.cellar.retention;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Barman's retention semantics over a server's committed backups (docs/retention.md), as a pure
 * function: which backups the policy requires, which it does not, and why. As Barman does for
 * incremental backups, the policies count <em>full-backup chains</em>: a full backup and the
 * incrementals built on it (parent by parent) share one fate.
 *
 * <ul>
 *   <li>Both policies look at full backups only, newest first.</li>
 *   <li>{@code REDUNDANCY n}: the newest n full backups are VALID, older ones OBSOLETE; n is raised to
 *       {@code minimum-redundancy}.</li>
 *   <li>{@code RECOVERY WINDOW OF ...}: the point of recoverability PoR = now - window; every full
 *       backup that ended at or after PoR is VALID, and so is the newest full that ended before it
 *       (what lets a restore reach PoR: a KEEP:FULL one serves, a KEEP:STANDALONE one does not);
 *       older fulls are OBSOLETE, except while fewer than {@code minimum-redundancy} fulls have been
 *       counted.</li>
 *   <li>Kept backups are never obsolete; kept fulls count toward both.</li>
 *   <li>An incremental (not kept) takes its chain's fate: VALID when its full is VALID or KEEP:FULL,
 *       OBSOLETE when its full is OBSOLETE or KEEP:STANDALONE, OBSOLETE when its chain is broken (a
 *       parent is not a committed backup).</li>
 *   <li>An obsolete backup whose blocks a retained backup references stays (NEEDED) as long as that
 *       one does.</li>
 *   <li>At least one backup always stays.</li>
 * </ul>
 */
public final class RetentionEvaluation {

    /**
     * One committed backup as retention sees it.
     *
     * @param full      a full backup (the root of a chain); false for an incremental
     * @param parent    an incremental's direct parent's ID; null for a full backup
     * @param dependsOn IDs of the backups whose stored blocks this one's manifest references
     * @param keep      its keep annotation; null when not kept
     */
    public record Candidate(String id, Instant stopTime, boolean full, String parent, Set<String> dependsOn, KeepTarget keep) {
    }

    /** The verdict on one backup. */
    public record Verdict(String id, RetentionStatus status, String reason) {
    }

    private RetentionEvaluation() {
    }

    /** Verdicts in the order given (oldest first). */
    public static List<Verdict> evaluate(List<Candidate> oldestFirst, RetentionPolicy policy, int minimumRedundancy, Instant now) {
        List<Candidate> newestFirst = new ArrayList<>(oldestFirst);
        Collections.reverse(newestFirst);
        List<Candidate> fullsNewestFirst = newestFirst.stream().filter(Candidate::full).toList();
        Map<String, Candidate> byId = new LinkedHashMap<>();
        oldestFirst.forEach(c -> byId.put(c.id(), c));
        Map<String, Verdict> verdicts = new LinkedHashMap<>();
        int minimum = Math.max(1, minimumRedundancy);

        // 1. The policy, over full backups.
        if (policy instanceof RetentionPolicy.Redundancy r) {
            int n = Math.max(r.count(), minimum);
            int counted = 0;
            for (Candidate c : fullsNewestFirst) {
                counted++;
                if (c.keep() != null) {
                    verdicts.put(c.id(), kept(c));
                } else if (counted <= n) {
                    verdicts.put(c.id(), new Verdict(c.id(), RetentionStatus.VALID, "one of the newest " + n + " full backups"
                            + (n > r.count() ? " (minimum-redundancy " + minimum + ")" : "")));
                } else {
                    verdicts.put(c.id(), new Verdict(c.id(), RetentionStatus.OBSOLETE, "older than the newest " + n + " full backups"));
                }
            }
        } else {
            RetentionPolicy.RecoveryWindow w = (RetentionPolicy.RecoveryWindow) policy;
            Instant por = now.minus(w.window());
            boolean beforePorTaken = false;
            int counted = 0;
            for (Candidate c : fullsNewestFirst) {
                counted++;
                if (c.keep() != null) {
                    verdicts.put(c.id(), kept(c));
                    // Only a backup kept with all WAL after it lets a restore reach PoR: a standalone keep
                    // retains just its own WAL, so the newest non-standalone full before PoR stays VALID.
                    beforePorTaken |= c.keep() == KeepTarget.FULL && c.stopTime().isBefore(por);
                } else if (!c.stopTime().isBefore(por)) {
                    verdicts.put(c.id(), new Verdict(c.id(), RetentionStatus.VALID, "within the recovery window (ended after " + por + ")"));
                } else if (!beforePorTaken) {
                    beforePorTaken = true;
                    verdicts.put(c.id(), new Verdict(c.id(), RetentionStatus.VALID, "the newest full backup ending before the point of recoverability "
                            + por + ": recovery to it starts from its chain"));
                } else if (counted <= minimum) {
                    verdicts.put(c.id(), new Verdict(c.id(), RetentionStatus.VALID, "outside the window, kept for minimum-redundancy " + minimum));
                } else {
                    verdicts.put(c.id(), new Verdict(c.id(), RetentionStatus.OBSOLETE, "ended before " + por
                            + " and a newer full backup also does"));
                }
            }
        }

        // 2. Incrementals take the fate of their chain (the full they descend from, parent by parent).
        for (Candidate c : oldestFirst) {
            if (c.full()) {
                continue;
            }
            if (c.keep() != null) {
                verdicts.put(c.id(), kept(c));
                continue;
            }
            verdicts.put(c.id(), chainVerdict(c, byId, verdicts));
        }

        // 3. Never every backup: with no full backup and no intact chain, the newest backup stays.
        if (!oldestFirst.isEmpty() && verdicts.values().stream().noneMatch(v -> v.status().retained())) {
            Candidate newest = newestFirst.get(0);
            verdicts.put(newest.id(), new Verdict(newest.id(), RetentionStatus.VALID, "no intact chain of a full backup is left ("
                    + verdicts.get(newest.id()).reason() + "): the newest backup stays, retention never deletes every backup"));
        }

        // 4. What a retained backup references stays.
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

    /** An incremental not kept: VALID or OBSOLETE as the full of its chain says, OBSOLETE when the chain is broken. */
    private static Verdict chainVerdict(Candidate incremental, Map<String, Candidate> byId, Map<String, Verdict> verdicts) {
        Set<String> seen = new HashSet<>();
        Candidate c = incremental;
        while (!c.full()) {
            if (!seen.add(c.id())) {
                return new Verdict(incremental.id(), RetentionStatus.OBSOLETE, "its chain is broken: the parents of " + c.id()
                        + " lead back to it, never to a full backup");
            }
            Candidate parent = c.parent() == null ? null : byId.get(c.parent());
            if (parent == null) {
                String what = c.parent() == null ? (c == incremental ? "it records" : "incremental " + c.id() + " in it records") + " no parent"
                        : (c == incremental ? "its parent " + c.parent() : c.parent() + ", the parent of " + c.id() + ",") + " is not a committed backup";
                return new Verdict(incremental.id(), RetentionStatus.OBSOLETE, "its chain is broken (" + what + ")");
            }
            c = parent;
        }
        RetentionStatus fullStatus = verdicts.get(c.id()).status();
        return switch (fullStatus) {
            case VALID, NEEDED, KEEP_FULL -> new Verdict(incremental.id(), RetentionStatus.VALID, "part of the chain of " + c.id());
            case KEEP_STANDALONE -> new Verdict(incremental.id(), RetentionStatus.OBSOLETE, "its chain (" + c.id() + ") is obsolete: "
                    + c.id() + " is kept standalone, without the WAL after it");
            case OBSOLETE -> new Verdict(incremental.id(), RetentionStatus.OBSOLETE, "its chain (" + c.id() + ") is obsolete");
        };
    }

    private static Verdict kept(Candidate c) {
        return c.keep() == KeepTarget.FULL ? new Verdict(c.id(), RetentionStatus.KEEP_FULL, "kept with all WAL after it")
                : new Verdict(c.id(), RetentionStatus.KEEP_STANDALONE, "kept with the WAL from its begin to its end");
    }
}
