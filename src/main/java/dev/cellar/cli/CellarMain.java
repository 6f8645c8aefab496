package dev.cellar.cli;

import java.io.PrintWriter;

/** The {@code cellar} process entry point (bin/cellar runs this class). */
public final class CellarMain {

    private CellarMain() {
    }

    public static void main(String[] args) {
        // A backup that a running `cellar serve` accepts runs there (design 2.2): nothing else starts here.
        java.util.OptionalInt delegated = ServeClient.delegate(args, CliEnvironment.ofProcess(), System.out, System.err);
        if (delegated.isPresent()) {
            System.exit(delegated.getAsInt());
        }
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int code = new CellarCommandLine(CliEnvironment.ofProcess()).run(args, out, err);
        System.exit(code);
    }
}
