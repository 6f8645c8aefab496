package dev.cellar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cellar.api.ExitCode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/exit-codes.md lists exactly the codes the program uses, with the same meanings. */
class ExitCodesDocTest {

    @Test
    void theDocumentedTableMatchesTheEnum() throws Exception {
        String doc = Files.readString(Path.of("docs/exit-codes.md"));
        long rows = doc.lines().filter(l -> l.matches("\\|\\s*\\d+\\s*\\|.*")).count();
        assertThat(rows).isEqualTo(ExitCode.values().length);
        for (ExitCode c : ExitCode.values()) {
            assertThat(doc).as(c.name()).contains("| " + c.code() + " | `" + c.name() + "` | " + c.meaning() + " |");
        }
    }
}
