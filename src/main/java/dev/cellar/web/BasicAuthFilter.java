package dev.cellar.web;

import dev.cellar.api.CellarException;
import dev.cellar.api.ExitCode;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * HTTP basic authentication for every path but {@code /actuator/health} (load balancers and
 * monitoring probe it without credentials), when {@code cellar.serve.user} and
 * {@code cellar.serve.password-file} are set. The password is the file's first line, read at
 * start-up. Credentials are compared in constant time (digests of equal length, {@link MessageDigest#isEqual}).
 */
public class BasicAuthFilter extends OncePerRequestFilter {

    static final String REALM = "cellar";

    /** The filter when no user is configured: it is registered disabled, and would let everything through. */
    static final BasicAuthFilter OFF = new BasicAuthFilter();

    private final byte[] expected;

    private BasicAuthFilter() {
        this.expected = null;
    }

    public BasicAuthFilter(String user, Path passwordFile) {
        String password;
        try {
            password = Files.readAllLines(passwordFile, StandardCharsets.UTF_8).stream().findFirst().orElse("");
        } catch (IOException e) {
            throw new CellarException(ExitCode.USAGE, "cellar.serve.password-file: cannot read " + passwordFile + ": " + e.getMessage(), e);
        }
        if (password.isEmpty()) {
            throw new CellarException(ExitCode.USAGE, "cellar.serve.password-file: " + passwordFile + " holds no password (its first line is empty)");
        }
        this.expected = digest(user + ":" + password);
    }

    static boolean isOpen(String path) {
        return path.equals("/actuator/health") || path.startsWith("/actuator/health/");
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (expected == null || isOpen(request.getRequestURI())) {
            chain.doFilter(request, response);
            return;
        }
        if (authorized(request.getHeader("Authorization"))) {
            request.setAttribute(USER_ATTRIBUTE, userOf(request.getHeader("Authorization")));
            chain.doFilter(request, response);
            return;
        }
        response.setHeader("WWW-Authenticate", "Basic realm=\"" + REALM + "\", charset=\"UTF-8\"");
        response.sendError(HttpServletResponse.SC_UNAUTHORIZED, "authentication required");
    }

    /** Request attribute: the user this filter authenticated (absent without authentication). */
    static final String USER_ATTRIBUTE = "cellar.web.user";

    /** The user part of a Basic Authorization header (call only once it is verified). */
    private static String userOf(String header) {
        String decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
        int colon = decoded.indexOf(':');
        return colon < 0 ? decoded : decoded.substring(0, colon);
    }

    private boolean authorized(String header) {
        if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
            return false;
        }
        byte[] given;
        try {
            given = Base64.getDecoder().decode(header.substring(6).trim());
        } catch (IllegalArgumentException e) {
            return false;
        }
        return MessageDigest.isEqual(digest(new String(given, StandardCharsets.UTF_8)), expected);
    }

    private static byte[] digest(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
