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
 * <p>A backup is written {@code ID@AGE[<DEP,DEP...][!full|!standalone]}: AGE is how many days
 * before {@link #NOW} it ended (decimals allowed, and an optional {@code +Ns}/{@code -Ns} for
 * seconds: {@code 7+1s} is one second older than seven days), DEP are the backups whose blocks it
 * references, {@code !full}/{@code !standalone} its keep annotation. Expected statuses are written
 * {@code ID=STATUS} with {@link RetentionStatus} names.
 */
class RetentionEvaluationTest {

    /** A Friday, 09:30 (Barman's own example of a seven-day window starts from such a time). */
    static final Instant NOW = Instant.parse("2026-03-06T09:30:00Z");

    static Stream<Arguments> cases() {
        return Stream.of(
                // ---- REDUNDANCY ----
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
                c("an obsolete full needed by a retained incremental",
                        "REDUNDANCY 1", 0, "F@3 I@1<F",
                        "F=NEEDED I=VALID"),
                c("a chain full <- incr <- incr: each needed through the next",
                        "REDUNDANCY 1", 0, "F@3 I1@2<F I2@1<I1",
                        "F=NEEDED I1=NEEDED I2=VALID"),
                c("a chain whose newest member references every older one (as manifests do)",
                        "REDUNDANCY 1", 0, "F@3 I1@2<F I2@1<I1,F",
                        "F=NEEDED I1=NEEDED I2=VALID"),
                c("an older chain goes whole when a newer full starts another",
                        "REDUNDANCY 2", 0, "F1@10 I1@9<F1 I2@8<I1 F2@5 I3@4<F2",
                        "F1=OBSOLETE I1=OBSOLETE I2=OBSOLETE F2=VALID I3=VALID"),
                c("an incremental nothing retained needs goes, though its full stays",
                        "REDUNDANCY 1", 0, "F@3!full I1@2<F I2@1<F",
                        "F=KEEP_FULL I1=OBSOLETE I2=VALID"),
                c("a kept incremental keeps its chain",
                        "REDUNDANCY 1", 0, "F@5 I@4<F!standalone G@1",
                        "F=NEEDED I=KEEP_STANDALONE G=VALID"),
                c("a dependency that is not a committed backup is ignored",
                        "REDUNDANCY 1", 0, "A@2 B@1<X",
                        "A=OBSOLETE B=VALID"),

                // ---- RECOVERY WINDOW ----
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
                c("the base is an incremental: its chain is needed",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "F@20 I1@12<F I2@9<I1 J@3<I2",
                        "F=NEEDED I1=NEEDED I2=VALID J=VALID"),
                c("a new full within the window; the old chain's newest member is the base",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "F1@20 I1@15<F1 F2@5 I2@2<F2",
                        "F1=NEEDED I1=VALID F2=VALID I2=VALID"),
                c("an obsolete chain older than the base goes whole",
                        "RECOVERY WINDOW OF 7 DAYS", 0, "F1@30 I1@25<F1 F2@10 I2@2<F2",
                        "F1=OBSOLETE I1=OBSOLETE F2=VALID I2=VALID"));
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
        List<RetentionEvaluation.Verdict> r = RetentionEvaluation.evaluate(candidates("F@3 I@2<F"), RetentionPolicy.parse("REDUNDANCY 1"), 2, NOW);
        assertThat(r.get(0).reason()).isNotBlank();
        assertThat(r.get(1).reason()).contains("minimum-redundancy 2");
        List<RetentionEvaluation.Verdict> n = RetentionEvaluation.evaluate(candidates("F@3 I@2<F"), RetentionPolicy.parse("REDUNDANCY 1"), 0, NOW);
        assertThat(n.get(0).reason()).contains("backup I");
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

    private static final Pattern BACKUP = Pattern.compile("(\\w+)@(\\d+(?:\\.\\d+)?)(?:([+-]\\d+)s)?(?:<([\\w,]+))?(?:!(full|standalone))?");

    static List<RetentionEvaluation.Candidate> candidates(String spec) {
        List<RetentionEvaluation.Candidate> out = new ArrayList<>();
        for (String token : spec.trim().split("\\s+")) {
            Matcher m = BACKUP.matcher(token);
            if (!m.matches()) {
                throw new IllegalArgumentException("bad backup in a test case: " + token);
            }
            long seconds = new BigDecimal(m.group(2)).multiply(BigDecimal.valueOf(86_400)).longValueExact()
                    + (m.group(3) == null ? 0 : Long.parseLong(m.group(3)));
            Set<String> deps = m.group(4) == null ? Set.of() : new LinkedHashSet<>(Arrays.asList(m.group(4).split(",")));
            KeepTarget keep = m.group(5) == null ? null : KeepTarget.parse(m.group(5));
            out.add(new RetentionEvaluation.Candidate(m.group(1), NOW.minus(Duration.ofSeconds(seconds)), deps, keep));
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
