package dev.cellar.web;

import dev.cellar.api.CellarException;
import dev.cellar.api.ExitCode;
import dev.cellar.jobs.ExecutionSummary;
import dev.cellar.jobs.JobHistory;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** The JSON API of {@code cellar serve} (docs/web.md). */
@RestController
@RequestMapping("/api")
public class ApiController {

    /** The most executions one request returns. */
    static final int MAX_LIMIT = 500;

    private final ServerStatusService servers;
    private final JobHistory history;
    private final RestartLauncher restarts;

    public ApiController(ServerStatusService servers, JobHistory history, RestartLauncher restarts) {
        this.servers = servers;
        this.history = history;
        this.restarts = restarts;
    }

    @GetMapping("/servers")
    public Collection<ServerStatus> servers() {
        return servers.servers().values();
    }

    @GetMapping("/executions")
    public List<ExecutionView.Line> executions(@RequestParam(required = false) String server, @RequestParam(required = false) String job,
                                               @RequestParam(required = false) String status, @RequestParam(required = false) String since,
                                               @RequestParam(defaultValue = "50") int limit) {
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new CellarException(ExitCode.USAGE, "limit must be between 1 and " + MAX_LIMIT);
        }
        JobHistory.Filter filter = new JobHistory.Filter(blankToNull(server), blankToNull(job),
                blankToNull(status) == null ? null : status.toUpperCase(Locale.ROOT), since(since), limit);
        List<ExecutionView.Line> out = new ArrayList<>();
        Map<String, List<ExecutionSummary>> recent = new HashMap<>();
        for (ExecutionSummary s : history.list(filter)) {
            out.add(ExecutionView.line(history.show(s.id()), restartedAs(s, recent)));
        }
        return out;
    }

    @GetMapping("/executions/{id}")
    public ExecutionView.Detail execution(@PathVariable long id) {
        var d = history.show(id);
        return ExecutionView.detail(d, restartedAs(d.execution(), new HashMap<>()));
    }

    /**
     * The execution that continued this one (the next of its job instance), looked up for the
     * FAILED and STOPPED ones only; {@code recent} caches the recent executions of each job and server.
     */
    private Long restartedAs(ExecutionSummary s, Map<String, List<ExecutionSummary>> recent) {
        if (!ExecutionView.restartable(s.status())) {
            return null;
        }
        List<ExecutionSummary> candidates = recent.computeIfAbsent(s.job() + "|" + s.server(),
                k -> history.list(new JobHistory.Filter(s.server(), s.job(), null, null, MAX_LIMIT)));
        Long next = null;
        for (ExecutionSummary c : candidates) {
            if (c.id() > s.id() && c.identity().equals(s.identity()) && (next == null || c.id() < next)) {
                next = c.id();
            }
        }
        return next;
    }

    /** Restarts a FAILED or STOPPED execution in the background: 202 with what was started. */
    @PostMapping("/executions/{id}/restart")
    public ResponseEntity<RestartLauncher.Started> restart(@PathVariable long id, jakarta.servlet.http.HttpServletRequest request) {
        dev.cellar.audit.Actor who = dev.cellar.audit.Actor.web((String) request.getAttribute(BasicAuthFilter.USER_ATTRIBUTE), request.getRemoteAddr());
        return ResponseEntity.status(HttpStatus.ACCEPTED).body(restarts.restart(id, who));
    }

    private static final Pattern AGE = Pattern.compile("(\\d+)([mhdw])");

    /** {@code since}: an age (30m, 12h, 7d, 2w, as {@code cellar jobs list --since}) or an ISO-8601 instant. */
    static LocalDateTime since(String text) {
        if (blankToNull(text) == null) {
            return null;
        }
        Matcher m = AGE.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            Duration d = switch (m.group(2)) {
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                default -> Duration.ofDays(7 * n);
            };
            return LocalDateTime.now().minus(d);
        }
        try {
            return LocalDateTime.ofInstant(Instant.parse(text.trim()), ZoneId.systemDefault());
        } catch (DateTimeParseException e) {
            throw new CellarException(ExitCode.USAGE, "since: '" + text + "' is neither an age (30m, 12h, 7d, 2w) nor an instant (2026-11-27T03:00:00Z)");
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
