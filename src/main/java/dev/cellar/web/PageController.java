package dev.cellar.web;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.springframework.http.CacheControl;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;

/**
 * {@code GET /}: the job history page, one self-contained HTML file (its script and styles inline,
 * nothing fetched from elsewhere) that reads the JSON API. It may not be framed by another site
 * (its Restart buttons must not be clicked through a decoy).
 */
@Controller
public class PageController {

    static final String PAGE = "/dev/cellar/web/index.html";

    private final String html;

    public PageController() throws IOException {
        try (InputStream in = PageController.class.getResourceAsStream(PAGE)) {
            if (in == null) {
                throw new IOException("missing resource " + PAGE);
            }
            html = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @GetMapping({"/", "/index.html"})
    public ResponseEntity<String> page() {
        return ResponseEntity.ok()
                .contentType(new MediaType(MediaType.TEXT_HTML, StandardCharsets.UTF_8))
                .cacheControl(CacheControl.noStore())
                .header("X-Frame-Options", "DENY")
                .header("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                        + "connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'none'")
                .header("X-Content-Type-Options", "nosniff")
                .body(html);
    }
}
