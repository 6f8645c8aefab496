package dev.cellar.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.config.SettingsLoader;
import dev.cellar.jobs.backup.BaseBackupJobConfig;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.batch.core.job.Job;
import org.springframework.batch.core.job.SimpleJob;
import org.yaml.snakeyaml.Yaml;

/** Each jobs/NAME.yaml says what the job's code does: same steps in the same order, same checkpoint keys. */
class JobDescriptorsTest {

    @TempDir
    Path dir;

    /** The configuration class holding each job's constants. */
    static final Map<String, Class<?>> CONFIGS = Map.of(
            BaseBackupJobConfig.JOB, BaseBackupJobConfig.class,
            dev.cellar.jobs.wal.WalSweepJobConfig.JOB, dev.cellar.jobs.wal.WalSweepJobConfig.class,
            dev.cellar.jobs.restore.RestoreJobConfig.JOB, dev.cellar.jobs.restore.RestoreJobConfig.class,
            dev.cellar.jobs.retention.RetentionPruneJobConfig.JOB, dev.cellar.jobs.retention.RetentionPruneJobConfig.class,
            dev.cellar.jobs.verify.VerifyRestoreJobConfig.JOB, dev.cellar.jobs.verify.VerifyRestoreJobConfig.class);

    @Test
    @SuppressWarnings("unchecked")
    void everyJobHasADescriptorThatMatchesIt() throws Exception {
        Path config = Files.writeString(dir.resolve("cellar.yaml"), "cellar:\n  home: " + dir.resolve("home") + "\n");
        try (JobRuntime runtime = JobRuntime.start(new SettingsLoader(Map.of(), dir).load(config))) {
            Map<String, Job> jobs = runtime.beansOfType(Job.class);
            Set<String> production = new TreeSet<>();
            jobs.values().stream().map(Job::getName).filter(n -> !n.startsWith("test-")).forEach(production::add);
            Set<String> described = new TreeSet<>();
            try (Stream<Path> files = Files.list(Path.of("jobs"))) {
                files.filter(f -> f.toString().endsWith(".yaml")).forEach(f -> described.add(f.getFileName().toString().replace(".yaml", "")));
            }
            assertThat(described).isEqualTo(production);

            for (String name : production) {
                Map<String, Object> d = new Yaml().load(Files.readString(Path.of("jobs", name + ".yaml")));
                assertThat(d.get("job")).isEqualTo(name);
                Job job = jobs.values().stream().filter(j -> j.getName().equals(name)).findFirst().orElseThrow();
                List<String> steps = ((List<Map<String, Object>>) d.get("steps")).stream().map(s -> (String) s.get("name")).toList();
                assertThat(steps).as(name + " steps").containsExactlyElementsOf(((SimpleJob) job).getStepNames());
                assertThat(steps).allMatch(s -> s.startsWith(name + "."));

                Set<String> documentedKeys = new TreeSet<>();
                ((Map<String, List<String>>) d.get("checkpoint-keys")).values().forEach(documentedKeys::addAll);
                assertThat(documentedKeys).as(name + " checkpoint keys").isEqualTo(checkpointKeys(CONFIGS.get(name), name, steps));
                assertThat(d).containsKeys("identity", "lock", "default-schedule", "restart");
                var scheduled = dev.cellar.schedule.ScheduledJob.byName(name);
                if (scheduled.isPresent()) {
                    assertThat(d.get("default-schedule")).as(name + " default schedule").isEqualTo(scheduled.get().defaultSchedule());
                    assertThat(d.get("misfire")).as(name + " misfire policy").isEqualTo(scheduled.get().misfire().name().toLowerCase().replace('_', '-'));
                    assertThat(d.get("restart-at-start-up")).as(name + " restart at start-up").isEqualTo(scheduled.get().restartAtStartUp());
                    assertThat(dev.cellar.config.SettingsLoader.SCHEDULED_JOBS).contains(name);
                } else {
                    assertThat(d.get("default-schedule")).as(name + " is not scheduled").isEqualTo("none");
                }
            }
        }
    }

    /** The public String constants of a job's configuration that name checkpoint keys (not steps, not the job). */
    private static Set<String> checkpointKeys(Class<?> config, String job, List<String> steps) throws IllegalAccessException {
        Set<String> keys = new TreeSet<>();
        List<String> excluded = new ArrayList<>(steps);
        excluded.add(job);
        for (Field f : config.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == String.class) {
                String v = (String) f.get(null);
                if (v.startsWith(job + ".") && !excluded.contains(v)) {
                    keys.add(v);
                }
            }
        }
        return keys;
    }
}
