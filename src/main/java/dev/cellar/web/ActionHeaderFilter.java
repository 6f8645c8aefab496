package dev.cellar.web;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.URI;
import java.util.Set;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Cross-site request forgery guard for everything that changes state (any method but GET, HEAD and
 * OPTIONS): the request must carry the {@value #HEADER} header, which a page of another site cannot
 * add without a CORS pre-flight that this server never grants (and an HTML form cannot add at all),
 * and, when the browser sends an {@code Origin}, it must be this server's own. The page sends both.
 */
public class ActionHeaderFilter extends OncePerRequestFilter {

    public static final String HEADER = "X-Cellar-Action";
    private static final Set<String> SAFE = Set.of("GET", "HEAD", "OPTIONS");

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (SAFE.contains(request.getMethod())) {
            chain.doFilter(request, response);
            return;
        }
        String action = request.getHeader(HEADER);
        if (action == null || action.isBlank()) {
            refuse(response, "a request that changes something must carry the " + HEADER + " header");
            return;
        }
        String origin = request.getHeader("Origin");
        if (origin != null && !sameOrigin(origin, request)) {
            refuse(response, "cross-origin request from " + origin + " refused");
            return;
        }
        chain.doFilter(request, response);
    }

    static boolean sameOrigin(String origin, HttpServletRequest request) {
        String host = request.getHeader("Host");
        if (host == null || origin.equals("null")) {
            return false;
        }
        try {
            URI o = URI.create(origin);
            int port = o.getPort() != -1 ? o.getPort() : "https".equals(o.getScheme()) ? 443 : 80;
            String oHost = o.getHost() + ":" + port;
            String h = host.contains(":") && !host.endsWith("]") ? host : host + ":" + ("https".equals(request.getScheme()) ? 443 : 80);
            return oHost.equalsIgnoreCase(h);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static void refuse(HttpServletResponse response, String message) throws IOException {
        response.setStatus(HttpServletResponse.SC_FORBIDDEN);
        response.setContentType("application/json");
        response.getWriter().write("{\"error\":\"" + message.replace("\\", "\\\\").replace("\"", "\\\"") + "\",\"code\":\"FORBIDDEN\"}");
    }
}
