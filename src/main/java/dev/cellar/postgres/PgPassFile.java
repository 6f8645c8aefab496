package dev.cellar.postgres;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A password file in libpq's format: {@code hostname:port:database:username:password} per line,
 * {@code *} matches anything, {@code \:} and {@code \\} escape, {@code #} starts a comment.
 */
public final class PgPassFile {

    private final List<String[]> entries;

    private PgPassFile(List<String[]> entries) {
        this.entries = entries;
    }

    /** Reads the file; a missing or unreadable file has no entries. */
    public static PgPassFile read(Path file) {
        List<String[]> entries = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] fields = split(line);
                if (fields.length == 5) {
                    entries.add(fields);
                }
            }
        } catch (IOException e) {
            // libpq ignores an unreadable password file, and so do we.
        }
        return new PgPassFile(entries);
    }

    /** The password of the first matching line, as libpq picks it. */
    public Optional<String> password(String host, int port, String database, String user) {
        String[] wanted = {host, Integer.toString(port), database, user};
        for (String[] e : entries) {
            boolean match = true;
            for (int i = 0; i < 4 && match; i++) {
                match = e[i].equals("*") || e[i].equals(wanted[i])
                        || (i == 0 && e[i].equals("localhost") && (host.equals("127.0.0.1") || host.equals("::1")));
            }
            if (match) {
                return Optional.of(e[4]);
            }
        }
        return Optional.empty();
    }

    private static String[] split(String line) {
        List<String> fields = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && i + 1 < line.length()) {
                current.append(line.charAt(++i));
            } else if (c == ':' && fields.size() < 4) {
                fields.add(current.toString());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        fields.add(current.toString());
        return fields.toArray(String[]::new);
    }
}
