package dev.cellar.retention;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Table-driven: each case is a server's committed backups (oldest first), a policy, a
 * minimum-redundancy, and the status expected of every backup.
 *
 * <p>A backup is written {@code ID@AGE[^PARENT][<DEP,DEP...][!full|!standalone]}: AGE is how many
 * days before {@link #NOW} it ended (decimals allowed, and an optional {@code +Ns}/{@code -Ns} for
 * seconds: {@code 7+1s} is one second older than seven days). Without {@code ^PARENT} it is a full
 * backup; with it, an incremental on PARENT (which need not be in the case: a missing parent). DEP
 * are the backups whose blocks it references; when {@code <} is left out, an incremental references
 * its parent and everything its parent references (its whole chain, as manifests do) and a full
 * references nothing; {@code <} alone means nothing. {@code !full}/{@code !standalone} is its keep
 * annotation. Expected statuses are written {@code ID=STATUS} with {@link RetentionStatus} names.
 */
class RetentionEvaluationTest {

    /** A Friday, 09:30 (Barman's own example of a seven-day window starts from such a time). */
    static final Instant NOW = Instant.parse("2026-03-06T09:30:00Z");

    /**
     * docs/retention.md's "Two chains": fulls on Sundays ending 03:00, incrementals on Tuesdays and Thursdays
     * ending 02:20, each on the previous backup (22 Feb 03:00 is 12 days 6:30 before {@link #NOW}).
     */
    static final String DOCS_CHAINS = "F1@12+23400s I1@10+25800s^F1 I2@8+25800s^I1 F2@5+23400s I3@3+25800s^F2 I4@1+25800s^I3";

    static Stream<Arguments> cases() {
        return Stream.of(
                // ---- REDUNDANCY, full backups only ----
                c("Barman: REDUNDANCY 3 keeps the three most recent backups and discards older ones",
                        "REDUNDANCY 3", 0, "A@35 B@28 C@21 D@14 E@7",
                        "A=OBSOLETE B=OBSOLETE C=VALID D=VALID E=VALID"),
                c("REDUNDANCY 1: only the newest",
                        "REDUNDANCY 1", 0, "A@3 B@2 C@1",
                        "A=OBSOLETE B=OBSOLETE C=VALID"),
                c("redundancy larger than the number of backups: all VALID",
                        "REDUNDANCY 5", 0, "A@3 B@2 C@1",
                        "A=VALID B=VALID C=VALID"),
                c("the only backup is never obsolete",
                        "REDUNDANCY 1", 0, "A@400",
                        "A=VALID"),
                c("minimum-redundancy raises n",
                        "REDUNDANCY 1", 3, "A@4 B@3 C@2 D@1",
                        "A=OBSOLETE B=VALID C=VALID D=VALID"),
                c("minimum-redundancy below n changes nothing",
                        "REDUNDANCY 3", 1, "A@4 B@3 C@2 D@1",
                        "A=OBSOLETE B=VALID C=VALID D=VALID"),
                c("a kept backup counts toward redundancy",
                        "REDUNDANCY 2", 0, "A@40 B@30 C@20!full D@10",
                        "A=OBSOLETE B=OBSOLETE C=KEEP_FULL D=VALID"),
                c("a kept backup counts toward minimum-redundancy",
                        "REDUNDANCY 1", 3, "A@40 B@30 C@20!standalone D@10",
                        "A=OBSOLETE B=VALID C=KEEP_STANDALONE D=VALID"),
                c("a kept backup among obsolete ones",
                        "REDUNDANCY 1", 0, "A@40 B@30!standalone C@20 D@10",
                        "A=OBSOLETE B=KEEP_STANDALONE C=OBSOLETE D=VALID"),
                c("the oldest backup kept full is never obsolete",
                        "REDUNDANCY 1", 0, "A@40!full B@20 C@1",
                        "A=KEEP_FULL B=OBSOLETE C=VALID"),

                // ---- REDUNDANCY, chains: only full backups count ----
                c("REDUNDANCY 1, a full and its incremental: one chain, both VALID",
                        "REDUNDANCY 1", 0, "F@3 I@1^F",
                        "F=VALID I=VALID"),
                c("REDUNDANCY 1, a full and three incrementals: all four stay",
                        "REDUNDANCY 1", 0, "F@4 I1@3^F I2@2^I1 I3@1^I2",
                        "F=VALID I1=VALID I2=VALID I3=VALID"),
                c("incrementals that reference only their parent still follow the full (the parent link decides)",
                        "REDUNDANCY 1", 0, "F@4 I1@3^F<F I2@2^I1<I1 I3@1^I2<I2",
                        "F=VALID I1=VALID I2=VALID I3=VALID"),
                c("an incremental that references no block of its chain still follows it",
                        "REDUNDANCY 1", 0, "F@3 I@1^F<",
                        "F=VALID I=VALID"),
                c("incrementals on the same parent (a branch) both follow the full",
                        "REDUNDANCY 1", 0, "F@4 I1@3^F I2@2^F",
                        "F=VALID I1=VALID I2=VALID"),
                c("REDUNDANCY 1 with two chains: the newest chain stays, the older goes whole",
                        "REDUNDANCY 1", 0, "F1@10 I1@9^F1 I2@8^I1 F2@5 I3@4^F2",
                        "F1=OBSOLETE I1=OBSOLETE I2=OBSOLETE F2=VALID I3=VALID"),
                c("REDUNDANCY 2 with two chains: incrementals do not count, both chains stay",
                        "REDUNDANCY 2", 0, "F1@10 I1@9^F1 I2@8^I1 F2@5 I3@4^F2",
                        "F1=VALID I1=VALID I2=VALID F2=VALID I3=VALID"),
                c("REDUNDANCY 2 with three chains: the oldest goes whole",
                        "REDUNDANCY 2", 0, "F1@20 I1@19^F1 F2@10 I2@9^F2 I3@8^I2 F3@5 I4@4^F3",
                        "F1=OBSOLETE I1=OBSOLETE F2=VALID I2=VALID I3=VALID F3=VALID I4=VALID"),
                c("a new full with no incremental yet: REDUNDANCY 1 drops the whole older chain",
                        "REDUNDANCY 1", 0, "F1@10 I1@9^F1 I2@8^I1 F2@1",
                        "F1=OBSOLETE I1=OBSOLETE I2=OBSOLETE F2=VALID"),
                c("minimum-redundancy counts fulls, not incrementals",
                        "REDUNDANCY 1", 2, "F0@30 F1@20 I1@19^F1 F2@10 I2@9^F2 I3@8^I2",
                        "F0=OBSOLETE F1=VALID I1=VALID F2=VALID I2=VALID I3=VALID"),
                c("a kept full keeps its chain (KEEP:FULL: its WAL after it is kept)",
                        "REDUNDANCY 1", 0, "F@10!full I1@9^F I2@8^I1 G@1",
                        "F=KEEP_FULL I1=VALID I2=VALID G=VALID"),
                c("a full kept standalone does not keep its chain (only its own WAL is kept)",
                        "REDUNDANCY 1", 0, "F@10!standalone I1@9^F I2@8^I1 G@1",
                        "F=KEEP_STANDALONE I1=OBSOLETE I2=OBSOLETE G=VALID"),
                c("a kept full that is the newest takes the place; its chain stays with it",
                        "REDUNDANCY 1", 0, "F1@10 I1@9^F1 F2@3!full I2@2^F2",
                        "F1=OBSOLETE I1=OBSOLETE F2=KEEP_FULL I2=VALID"),
                c("an incremental of an obsolete chain kept: its full (and parents) become needed",
                        "REDUNDANCY 1", 0, "F@5 I@4^F!standalone G@1",
                        "F=NEEDED I=KEEP_STANDALONE G=VALID"),
                c("a kept incremental mid-chain: what it references is needed, the rest of the chain goes",
                        "REDUNDANCY 1", 0, "F@6 I1@5^F I2@4^I1!full I3@3^I2 G@1",
                        "F=NEEDED I1=NEEDED I2=KEEP_FULL I3=OBSOLETE G=VALID"),
                c("needed follows the references, not the parent links",
                        "REDUNDANCY 1", 0, "F@6 I1@5^F<F I2@4^I1<I1!full G@1",
                        "F=NEEDED I1=NEEDED I2=KEEP_FULL G=VALID"),
                c("a retained incremental referencing an older chain's blocks: that backup is needed",
                        "REDUNDANCY 1", 0, "F1@10 F2@5 I@4^F2<F2,F1",
                        "F1=NEEDED F2=VALID I=VALID"),
                c("a dependency that is not a committed backup is ignored",
                        "REDUNDANCY 1", 0, "F1@3 F2@2 I@1^F2<F2,X",
                        "F1=OBSOLETE F2=VALID I=VALID"),

                // ---- missing parents ----
                c("an incremental whose parent is not a committed backup is obsolete, even the newest",
                        "REDUNDANCY 1", 0, "F@5 I@1^X",
                        "F=VALID I=OBSOLETE"),
                c("a missing parent breaks the rest of the chain",
                        "REDUNDANCY 3", 0, "F@5 I1@3^X I2@2^I1 I3@1^I2",
                        "F=VALID I1=OBSOLETE I2=OBSOLETE I3=OBSOLETE"),
                c("a missing parent in the middle: the incrementals after the gap go, those before it stay",
                        "REDUNDANCY 1", 0, "F@5 I1@4^F I3@2^I2 I4@1^I3",
                        "F=VALID I1=VALID I3=OBSOLETE I4=OBSOLETE"),
                c("a kept incremental with a missing parent stays kept",
                        "REDUNDANCY 1", 0, "F@5 I@1^X!standalone",
                        "F=VALID I=KEEP_STANDALONE"),
                c("only incrementals with missing parents: the newest stays, and what it references",
                        "REDUNDANCY 1", 0, "I1@3^X I2@2^I1 I3@1^I2",
                        "I1=NEEDED I2=NEEDED I3=VALID"),
                c("only one incremental with a missing parent: it stays",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "I@30^X",
                        "I=VALID"),
                c("a missing parent under a window",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "F@10 I1@3^F I2@2^X",
                        "F=VALID I1=VALID I2=OBSOLETE"),

                // ---- RECOVERY WINDOW, full backups only ----
                c("Barman: the first backup outside a 7-day window stays, older ones are obsolete",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "A@20 B@10 C@8 D@5 E@1",
                        "A=OBSOLETE B=OBSOLETE C=VALID D=VALID E=VALID"),
                c("Barman: Friday 09:30, weekly backups on Sundays 02:00: back to the previous Friday 09:30",
                        "RECOVERY WINDOW OF 1 WEEKS", 0, "A@26.3125 B@19.3125 C@12.3125 D@5.3125",
                        "A=OBSOLETE B=OBSOLETE C=VALID D=VALID"),
                c("a backup ending exactly at PoR is within the window; the next older one is the base",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "Z@12 A@10 B@7 C@1",
                        "Z=OBSOLETE A=VALID B=VALID C=VALID"),
                c("a backup ending one second before PoR is the base",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "A@10 B@7+1s C@1",
                        "A=OBSOLETE B=VALID C=VALID"),
                c("a backup ending one second after PoR is within the window",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "A@10 B@7-1s C@1",
                        "A=VALID B=VALID C=VALID"),
                c("all backups older than PoR: only the newest kept",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "A@30 B@20 C@10",
                        "A=OBSOLETE B=OBSOLETE C=VALID"),
                c("no backup newer than PoR, only one backup: it stays",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "A@100",
                        "A=VALID"),
                c("every backup within the window",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "A@6 B@4 C@2",
                        "A=VALID B=VALID C=VALID"),
                c("no backup newer than PoR, minimum-redundancy 2",
                        "RECOVERY WINDOW OF 7 DAYS", 2, "A@30 B@20 C@10",
                        "A=OBSOLETE B=VALID C=VALID"),
                c("minimum-redundancy counts the backups within the window too",
                        "RECOVERY WINDOW OF 7 DAYS", 2, "A@30 B@20 C@10 D@2",
                        "A=OBSOLETE B=OBSOLETE C=VALID D=VALID"),
                c("minimum-redundancy 3 keeps one backup past the base",
                        "RECOVERY WINDOW OF 7 DAYS", 3, "A@30 B@20 C@10 D@2",
                        "A=OBSOLETE B=VALID C=VALID D=VALID"),
                c("minimum-redundancy larger than the number of backups: all stay",
                        "RECOVERY WINDOW OF 7 DAYS", 10, "A@40 B@30 C@20 D@10",
                        "A=VALID B=VALID C=VALID D=VALID"),
                c("WEEKS: 2 weeks is 14 days",
                        "RECOVERY WINDOW OF 2 WEEKS", 0, "A@20 B@15 C@13.9",
                        "A=OBSOLETE B=VALID C=VALID"),
                c("MONTHS: a month is 31 days (30.5 days ago is within it)",
                        "RECOVERY WINDOW OF 1 MONTHS", 0, "A@40 B@32 C@30.5",
                        "A=OBSOLETE B=VALID C=VALID"),
                c("a backup kept full before PoR is the base: recovery reaches PoR from it",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "A@20 B@10!full C@1",
                        "A=OBSOLETE B=KEEP_FULL C=VALID"),
                c("a backup kept standalone before PoR is not the base (its WAL stops at its end)",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "Z@25 A@20 B@10!standalone C@1",
                        "Z=OBSOLETE A=VALID B=KEEP_STANDALONE C=VALID"),
                c("no backup newer than PoR, the newest kept standalone: the newest other one is the base",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "A@30 B@20 C@10!standalone",
                        "A=OBSOLETE B=VALID C=KEEP_STANDALONE"),
                c("a kept backup among obsolete ones",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "A@30 B@25!full C@20 D@10 E@1",
                        "A=OBSOLETE B=KEEP_FULL C=OBSOLETE D=VALID E=VALID"),
                c("a kept backup within the window",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "A@20 B@10 C@3!standalone D@1",
                        "A=OBSOLETE B=VALID C=KEEP_STANDALONE D=VALID"),
                c("a kept backup counts toward minimum-redundancy",
                        "RECOVERY WINDOW OF 7 DAYS", 3, "A@30 B@20 C@15!standalone D@10 E@1",
                        "A=OBSOLETE B=OBSOLETE C=KEEP_STANDALONE D=VALID E=VALID"),

                // ---- RECOVERY WINDOW, chains ----
                c("a chain spanning PoR: its full is the base, every incremental follows",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "F@20 I1@12^F I2@9^I1 J@3^I2",
                        "F=VALID I1=VALID I2=VALID J=VALID"),
                c("incrementals ending before PoR do not serve as the base: the newest full before PoR does",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "F0@30 I0@25^F0 F@20 I1@15^F I2@12^I1",
                        "F0=OBSOLETE I0=OBSOLETE F=VALID I1=VALID I2=VALID"),
                c("a new full within the window; the older chain reaching across PoR stays whole",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "F1@20 I1@8^F1 I2@6^I1 F2@3 I3@1^F2",
                        "F1=VALID I1=VALID I2=VALID F2=VALID I3=VALID"),
                c("a new full within the window; the older chain's full is the base even with all of it before PoR",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "F1@20 I1@15^F1 F2@5 I2@2^F2",
                        "F1=VALID I1=VALID F2=VALID I2=VALID"),
                c("an obsolete chain older than the base goes whole",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "F1@30 I1@25^F1 F2@10 I2@2^F2",
                        "F1=OBSOLETE I1=OBSOLETE F2=VALID I2=VALID"),
                c("three chains: within the window, the base's, and an older one that goes",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "F0@40 I0@35^F0 F1@20 I1@10^F1 I2@8^I1 F2@5 I3@1^F2",
                        "F0=OBSOLETE I0=OBSOLETE F1=VALID I1=VALID I2=VALID F2=VALID I3=VALID"),
                c("a full kept full before PoR is the base: its chain stays, the older chain goes",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "F1@20 I1@15^F1 F2@10!full I2@8^F2 F3@2",
                        "F1=OBSOLETE I1=OBSOLETE F2=KEEP_FULL I2=VALID F3=VALID"),
                c("a full kept standalone before PoR is not the base: its chain goes, the older chain is the base",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "F1@20 I1@15^F1 F2@10!standalone I2@8^F2 F3@2",
                        "F1=VALID I1=VALID F2=KEEP_STANDALONE I2=OBSOLETE F3=VALID"),
                c("minimum-redundancy counts fulls under a window, not incrementals",
                        "RECOVERY WINDOW OF 7 DAYS", 3, "F0@40 I0@38^F0 F1@30 I1@29^F1 F2@20 F3@2 I3@1^F3",
                        "F0=OBSOLETE I0=OBSOLETE F1=VALID I1=VALID F2=VALID F3=VALID I3=VALID"),
                c("an incremental of an obsolete chain kept under a window: its chain is needed",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "F0@40 I0@38^F0 I1@36^I0!full F1@20 F2@2",
                        "F0=NEEDED I0=NEEDED I1=KEEP_FULL F1=VALID F2=VALID"),
                // ---- docs/retention.md, "Two chains", "Keeps in chains", "A broken chain" (ages to the second) ----
                c("docs: two chains, REDUNDANCY 1",
                        "REDUNDANCY 1", 0, DOCS_CHAINS,
                        "F1=OBSOLETE I1=OBSOLETE I2=OBSOLETE F2=VALID I3=VALID I4=VALID"),
                c("docs: two chains, REDUNDANCY 2",
                        "REDUNDANCY 2", 0, DOCS_CHAINS,
                        "F1=VALID I1=VALID I2=VALID F2=VALID I3=VALID I4=VALID"),
                c("docs: two chains, WINDOW 7 DAYS",
                        "RECOVERY WINDOW OF 7 DAYS", 0, DOCS_CHAINS,
                        "F1=VALID I1=VALID I2=VALID F2=VALID I3=VALID I4=VALID"),
                c("docs: two chains, WINDOW 3 DAYS",
                        "RECOVERY WINDOW OF 3 DAYS", 0, DOCS_CHAINS,
                        "F1=OBSOLETE I1=OBSOLETE I2=OBSOLETE F2=VALID I3=VALID I4=VALID"),
                c("docs: two chains, WINDOW 3 DAYS, minimum-redundancy 2",
                        "RECOVERY WINDOW OF 3 DAYS", 2, DOCS_CHAINS,
                        "F1=VALID I1=VALID I2=VALID F2=VALID I3=VALID I4=VALID"),
                c("docs: keeps in chains, 22 Feb kept full",
                        "REDUNDANCY 1", 0, DOCS_CHAINS.replace("F1@12+23400s", "F1@12+23400s!full"),
                        "F1=KEEP_FULL I1=VALID I2=VALID F2=VALID I3=VALID I4=VALID"),
                c("docs: keeps in chains, 22 Feb kept standalone",
                        "REDUNDANCY 1", 0, DOCS_CHAINS.replace("F1@12+23400s", "F1@12+23400s!standalone"),
                        "F1=KEEP_STANDALONE I1=OBSOLETE I2=OBSOLETE F2=VALID I3=VALID I4=VALID"),
                c("docs: keeps in chains, 26 Feb kept standalone",
                        "REDUNDANCY 1", 0, DOCS_CHAINS.replace("I2@8+25800s^I1", "I2@8+25800s^I1!standalone"),
                        "F1=NEEDED I1=NEEDED I2=KEEP_STANDALONE F2=VALID I3=VALID I4=VALID"),
                c("docs: keeps in chains, 24 Feb kept standalone instead",
                        "REDUNDANCY 1", 0, DOCS_CHAINS.replace("I1@10+25800s^F1", "I1@10+25800s^F1!standalone"),
                        "F1=NEEDED I1=KEEP_STANDALONE I2=OBSOLETE F2=VALID I3=VALID I4=VALID"),
                c("docs: a broken chain",
                        "REDUNDANCY 1", 0, "F2@5+23400s I4@1+25800s^I3",
                        "F2=VALID I4=OBSOLETE"),
                c("docs: a broken chain, its full gone too",
                        "REDUNDANCY 1", 0, "I4@1+25800s^I3",
                        "I4=VALID"),
                c("every chain within the window",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "F1@6 I1@5^F1 F2@3 I2@2^F2 I3@1^I2",
                        "F1=VALID I1=VALID F2=VALID I2=VALID I3=VALID"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void evaluates(String name, String policy, int minimumRedundancy, String backups, String expected) {
        List<RetentionEvaluation.Candidate> candidates = candidates(backups);
        Map<String, RetentionStatus> want = expected(expected);
        assertThat(want.keySet()).as("the case names every backup, in order")
                .containsExactlyElementsOf(candidates.stream().map(RetentionEvaluation.Candidate::id).toList());

        List<RetentionEvaluation.Verdict> verdicts = RetentionEvaluation.evaluate(candidates, RetentionPolicy.parse(policy), minimumRedundancy, NOW);

        assertThat(verdicts).extracting(RetentionEvaluation.Verdict::id).as("output order is input order")
                .containsExactlyElementsOf(want.keySet());
        Map<String, RetentionStatus> got = new LinkedHashMap<>();
        verdicts.forEach(v -> got.put(v.id(), v.status()));
        assertThat(got).as("statuses; reasons: %s", verdicts).containsExactlyEntriesOf(want);
        assertThat(verdicts).allSatisfy(v -> assertThat(v.reason()).as("reason of %s", v.id()).isNotBlank());
        assertThat(verdicts).as("never delete every backup").anySatisfy(v -> assertThat(v.status().retained()).isTrue());
    }

    @Test
    void outputOrderFollowsTheInputEvenWhenItIsNotOldestFirst() {
        // The contract is oldest first; whatever order is given, verdicts come back in it.
        List<RetentionEvaluation.Candidate> candidates = candidates("C@1 A@3 B@2");
        List<RetentionEvaluation.Verdict> verdicts = RetentionEvaluation.evaluate(candidates, RetentionPolicy.parse("REDUNDANCY 3"), 0, NOW);
        assertThat(verdicts).extracting(RetentionEvaluation.Verdict::id).containsExactly("C", "A", "B");
    }

    @Test
    void noBackupsNoVerdicts() {
        assertThat(RetentionEvaluation.evaluate(List.of(), RetentionPolicy.parse("REDUNDANCY 1"), 0, NOW)).isEmpty();
        assertThat(RetentionEvaluation.evaluate(List.of(), RetentionPolicy.parse("RECOVERY WINDOW OF 1 DAYS"), 3, NOW)).isEmpty();
    }

    @Test
    void reasonsSayWhy() {
        List<RetentionEvaluation.Verdict> w = RetentionEvaluation.evaluate(candidates("A@40 B@30 C@20 D@1"),
                RetentionPolicy.parse("RECOVERY WINDOW OF 7 DAYS"), 3, NOW);
        assertThat(w.get(0).reason()).contains("before");
        assertThat(w.get(1).reason()).contains("minimum-redundancy 3");
        assertThat(w.get(2).reason()).contains("point of recoverability");
        assertThat(w.get(3).reason()).contains("within the recovery window");
        List<RetentionEvaluation.Verdict> r = RetentionEvaluation.evaluate(candidates("F@5 G@3 I@2^G"), RetentionPolicy.parse("REDUNDANCY 1"), 2, NOW);
        assertThat(r.get(0).reason()).contains("minimum-redundancy 2");
        assertThat(r.get(1).reason()).contains("one of the newest 2 full backups");
        assertThat(r.get(2).reason()).isEqualTo("part of the chain of G");
        List<RetentionEvaluation.Verdict> o = RetentionEvaluation.evaluate(candidates("F@5 I1@4^F I2@3^I1 G@1"), RetentionPolicy.parse("REDUNDANCY 1"), 0, NOW);
        assertThat(o.get(0).reason()).isEqualTo("older than the newest 1 full backups");
        assertThat(o.get(1).reason()).isEqualTo("its chain (F) is obsolete");
        assertThat(o.get(2).reason()).as("the chain is named by its full, not by the parent").isEqualTo("its chain (F) is obsolete");
        List<RetentionEvaluation.Verdict> s = RetentionEvaluation.evaluate(candidates("F@5!standalone I@4^F G@1"), RetentionPolicy.parse("REDUNDANCY 1"), 0, NOW);
        assertThat(s.get(1).reason()).startsWith("its chain (F) is obsolete").contains("standalone");
        List<RetentionEvaluation.Verdict> n = RetentionEvaluation.evaluate(candidates("F@5 I@4^F!standalone G@1"), RetentionPolicy.parse("REDUNDANCY 1"), 0, NOW);
        assertThat(n.get(0).reason()).contains("backup I");
        List<RetentionEvaluation.Verdict> m = RetentionEvaluation.evaluate(candidates("F@5 I1@3^X I2@2^I1"), RetentionPolicy.parse("REDUNDANCY 1"), 0, NOW);
        assertThat(m.get(1).reason()).contains("broken").contains("its parent X is not a committed backup");
        assertThat(m.get(2).reason()).contains("broken").contains("X, the parent of I1, is not a committed backup");
        List<RetentionEvaluation.Verdict> only = RetentionEvaluation.evaluate(candidates("I1@3^X I2@2^I1"), RetentionPolicy.parse("REDUNDANCY 1"), 0, NOW);
        assertThat(only.get(1).reason()).contains("no intact chain").contains("never deletes every backup");
    }

    @Test
    void aParentCycleIsABrokenChainNotAnEndlessWalk() {
        List<RetentionEvaluation.Verdict> v = RetentionEvaluation.evaluate(candidates("F@5 I1@3^I2 I2@2^I1"), RetentionPolicy.parse("REDUNDANCY 1"), 0, NOW);
        assertThat(v).extracting(RetentionEvaluation.Verdict::status)
                .containsExactly(RetentionStatus.VALID, RetentionStatus.OBSOLETE, RetentionStatus.OBSOLETE);
        assertThat(v.get(1).reason()).contains("broken");
    }

    @Test
    void anIncrementalWithoutAParentIsABrokenChain() {
        List<RetentionEvaluation.Candidate> c = new ArrayList<>(candidates("F@5"));
        c.add(new RetentionEvaluation.Candidate("I", NOW, false, null, Set.of("F"), null));
        List<RetentionEvaluation.Verdict> v = RetentionEvaluation.evaluate(c, RetentionPolicy.parse("REDUNDANCY 1"), 0, NOW);
        assertThat(v).extracting(RetentionEvaluation.Verdict::status).containsExactly(RetentionStatus.VALID, RetentionStatus.OBSOLETE);
        assertThat(v.get(1).reason()).contains("records no parent");
    }

    @Test
    void labelsAsListBackupsShowsThem() {
        assertThat(Arrays.stream(RetentionStatus.values()).map(s -> s.label))
                .containsExactly("VALID", "VALID (needed)", "OBSOLETE", "KEEP:FULL", "KEEP:STANDALONE");
        assertThat(Arrays.stream(RetentionStatus.values()).filter(s -> !s.retained())).containsExactly(RetentionStatus.OBSOLETE);
    }

    // ---- the table's notation ----

    private static Arguments c(String name, String policy, int minimumRedundancy, String backups, String expected) {
        return Arguments.of(name, policy, minimumRedundancy, backups, expected);
    }

    private static final Pattern BACKUP = Pattern.compile(
            "(\\w+)@(\\d+(?:\\.\\d+)?)(?:([+-]\\d+)s)?(?:\\^(\\w+))?(?:(<)([\\w,]*))?(?:!(full|standalone))?");

    static List<RetentionEvaluation.Candidate> candidates(String spec) {
        List<RetentionEvaluation.Candidate> out = new ArrayList<>();
        Map<String, Set<String>> depsOf = new LinkedHashMap<>();
        for (String token : spec.trim().split("\\s+")) {
            Matcher m = BACKUP.matcher(token);
            if (!m.matches()) {
                throw new IllegalArgumentException("bad backup in a test case: " + token);
            }
            long seconds = new BigDecimal(m.group(2)).multiply(BigDecimal.valueOf(86_400)).longValueExact()
                    + (m.group(3) == null ? 0 : Long.parseLong(m.group(3)));
            String parent = m.group(4);
            Set<String> deps = new LinkedHashSet<>();
            if (m.group(5) != null) {
                if (!m.group(6).isEmpty()) {
                    deps.addAll(Arrays.asList(m.group(6).split(",")));
                }
            } else if (parent != null) {
                deps.add(parent);
                deps.addAll(depsOf.getOrDefault(parent, Set.of()));
            }
            depsOf.put(m.group(1), deps);
            KeepTarget keep = m.group(7) == null ? null : KeepTarget.parse(m.group(7));
            out.add(new RetentionEvaluation.Candidate(m.group(1), NOW.minus(Duration.ofSeconds(seconds)), parent == null, parent, deps, keep));
        }
        return out;
    }

    private static Map<String, RetentionStatus> expected(String spec) {
        Map<String, RetentionStatus> out = new LinkedHashMap<>();
        for (String token : spec.trim().split("\\s+")) {
            String[] kv = token.split("=");
            out.put(kv[0], RetentionStatus.valueOf(kv[1]));
        }
        return out;
    }
}
