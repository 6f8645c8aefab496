package dev.cellar.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.Map;
import java.util.function.Consumer;

/** Writes a verb's result: human-readable text by default, one JSON document with {@code --json}. */
final class Output {

    static final ObjectMapper JSON = new ObjectMapper()
            .registerModule(new SimpleModule()
                    .addSerializer(LocalDateTime.class, ToStringSerializer.instance)
                    .addSerializer(java.time.Instant.class, ToStringSerializer.instance)
                    .addSerializer(Duration.class, new StdSerializer<>(Duration.class) {
                        @Override
                        public void serialize(Duration d, JsonGenerator g, SerializerProvider p) throws IOException {
                            g.writeNumber(d.toMillis() / 1000.0);
                        }
                    }))
            .configure(SerializationFeature.INDENT_OUTPUT, true);

    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean json;

    Output(PrintWriter out, PrintWriter err, boolean json) {
        this.out = out;
        this.err = err;
        this.json = json;
    }

    boolean json() {
        return json;
    }

    PrintWriter out() {
        return out;
    }

    /** Prints {@code result} as JSON, or runs {@code text} to print it for people. */
    void result(Object result, Consumer<PrintWriter> text) {
        if (json) {
            try {
                out.println(JSON.writeValueAsString(result));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        } else {
            text.accept(out);
        }
        out.flush();
    }

    /** An error: on stderr for people, and as a JSON document on stdout with {@code --json}. */
    void error(String kind, int code, String message) {
        if (json) {
            try {
                out.println(JSON.writeValueAsString(Map.of("error", Map.of("kind", kind, "exit-code", code, "message", message))));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            out.flush();
        }
        err.println("cellar: " + message);
        err.flush();
    }

    static String seconds(Duration d) {
        if (d == null) {
            return "-";
        }
        long s = d.toSeconds();
        if (s < 60) {
            return String.format("%.1fs", d.toMillis() / 1000.0);
        }
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, (s % 3600) / 60) : String.format("%dm%02ds", s / 60, s % 60);
    }

    static String time(LocalDateTime t) {
        return t == null ? "-" : t.withNano(0).toString().replace('T', ' ');
    }
}
