package dev.cellar.jobs;

import dev.cellar.config.CellarSettings;
import dev.cellar.hooks.Hook;
import dev.cellar.hooks.HookRunner;
import dev.cellar.repository.ProcessOwner;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.batch.core.BatchStatus;
import org.springframework.batch.core.ExitStatus;
import org.springframework.batch.core.job.JobExecution;
import org.springframework.batch.core.listener.JobExecutionListener;
import org.springframework.batch.core.repository.JobRepository;

/**
 * Runs a server's pre- and post-hooks around every execution of a job (docs/hooks.md): the pre-hook
 * before the first step of each execution, a restart included (each execution is a new attempt: a
 * backup opens a new session); when it fails the execution FAILS before any step ran, its message
 * naming the hook, and no post-hook runs. The post-hook runs after the job's own resources are
 * released, whatever the status (CELLAR_STATUS, CELLAR_ERROR); its failure is a warning
 * ({@value #WARNING} in the job context, exit status {@value #COMPLETED_WITH_WARNINGS} when the job
 * COMPLETED), never a failure.
 */
public final class JobHooks implements JobExecutionListener {

    /** Job execution context key: post-hook failures, one line each, joined by "; ". */
    public static final String WARNING = "cellar.hook-warning";

    /** The exit code of a COMPLETED execution whose post-hook failed (the CLI exits 3). */
    public static final String COMPLETED_WITH_WARNINGS = "COMPLETED_WITH_WARNINGS";

    /** The action's own variables (CELLAR_BACKUP_ID, CELLAR_DESTINATION, ...) before or after it. */
    public interface Variables {
        Map<String, String> of(JobExecution execution, Hook.Phase phase);
    }

    private final CellarSettings settings;
    private final JobRepository repository;
    private final Hook hook;
    private final Variables variables;
    private final Set<Long> started = ConcurrentHashMap.newKeySet();

    public JobHooks(CellarSettings settings, JobRepository repository, Hook hook, Variables variables) {
        this.settings = settings;
        this.repository = repository;
        this.hook = hook;
        this.variables = variables;
    }

    @Override
    public void beforeJob(JobExecution execution) {
        HookRunner runner = new HookRunner(settings, execution.getJobParameters().getString(JobHistory.SERVER_PARAMETER));
        if (runner.has(hook, Hook.Phase.PRE)) {
            // The hook may run for minutes: record the owner first, so a crash meanwhile is recognised as one.
            ExecutionOwner.writeTo(ProcessOwner.current(), execution.getExecutionContext());
            repository.updateExecutionContext(execution);
        }
        runner.pre(hook, variables(execution, Hook.Phase.PRE));
        started.add(execution.getId());
    }

    @Override
    public void afterJob(JobExecution execution) {
        if (!started.remove(execution.getId())) {
            return; // the pre-hook aborted the execution: nothing happened, nothing to report
        }
        HookRunner runner = new HookRunner(settings, execution.getJobParameters().getString(JobHistory.SERVER_PARAMETER));
        String error = null;
        if (execution.getStatus() != BatchStatus.COMPLETED) {
            error = execution.getExecutionContext().getString(JobExecutionRecorder.FAILURE,
                    execution.getExitStatus().getExitDescription().lines().findFirst().orElse(""));
        }
        runner.post(hook, execution.getStatus().name(), error, variables(execution, Hook.Phase.POST))
                .ifPresent(w -> warn(execution, w, repository));
    }

    private Map<String, String> variables(JobExecution execution, Hook.Phase phase) {
        Map<String, String> vars = new LinkedHashMap<>();
        vars.put("CELLAR_JOB", execution.getJobInstance().getJobName());
        vars.put("CELLAR_JOB_EXECUTION_ID", String.valueOf(execution.getId()));
        vars.put("CELLAR_RESTART", Boolean.toString(repository.getJobExecutions(execution.getJobInstance()).size() > 1));
        vars.putAll(variables.of(execution, phase));
        return vars;
    }

    /** Records a post-hook's failure as a warning of the execution (context and, when COMPLETED, exit status). */
    public static void warn(JobExecution execution, String warning, JobRepository repository) {
        String prior = execution.getExecutionContext().getString(WARNING, null);
        execution.getExecutionContext().putString(WARNING, prior == null ? warning : prior + "; " + warning);
        promote(execution);
        repository.updateExecutionContext(execution);
    }

    /** A COMPLETED execution with a hook warning in its context exits {@value #COMPLETED_WITH_WARNINGS}. */
    static void promote(JobExecution execution) {
        String warning = execution.getExecutionContext().getString(WARNING, null);
        if (warning != null && execution.getStatus() == BatchStatus.COMPLETED
                && ExitStatus.COMPLETED.getExitCode().equals(execution.getExitStatus().getExitCode())) {
            execution.setExitStatus(new ExitStatus(COMPLETED_WITH_WARNINGS, execution.getExitStatus().getExitDescription())
                    .addExitDescription(warning));
        }
    }

    /** For jobs whose steps record hook warnings themselves (retention-prune's post-delete): the exit status follows them. */
    public static JobExecutionListener warningsToExitStatus() {
        return new JobExecutionListener() {
            @Override
            public void afterJob(JobExecution execution) {
                promote(execution);
            }
        };
    }
}
