package dev.cellar.web;

import dev.cellar.api.CellarException;
import dev.cellar.api.ExitCode;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;

/**
 * API errors as JSON {@code {"error": message, "exitCode": n, "code": NAME}}, with the HTTP status of
 * the {@link ExitCode} a CLI verb would have exited with (docs/web.md has the table).
 */
@RestControllerAdvice(assignableTypes = ApiController.class)
public class ApiErrors {

    private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);

    static HttpStatus status(ExitCode code) {
        return switch (code) {
            case USAGE -> HttpStatus.BAD_REQUEST;
            case NOT_FOUND -> HttpStatus.NOT_FOUND;
            case BUSY, REFUSED -> HttpStatus.CONFLICT;
            case NOT_IMPLEMENTED -> HttpStatus.NOT_IMPLEMENTED;
            default -> HttpStatus.INTERNAL_SERVER_ERROR;
        };
    }

    @ExceptionHandler(CellarException.class)
    public ResponseEntity<Map<String, Object>> cellar(CellarException e) {
        HttpStatus status = status(e.exitCode());
        if (status.is5xxServerError()) {
            log.warn("API request failed: {}", e.getMessage(), e);
        }
        return ResponseEntity.status(status).body(Map.of("error", String.valueOf(e.getMessage()),
                "exitCode", e.exitCode().code(), "code", e.exitCode().name()));
    }

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    public ResponseEntity<Map<String, Object>> badArgument(MethodArgumentTypeMismatchException e) {
        return ResponseEntity.badRequest().body(Map.of("error", "'" + e.getValue() + "' is not a valid " + e.getName(),
                "exitCode", ExitCode.USAGE.code(), "code", ExitCode.USAGE.name()));
    }
}
