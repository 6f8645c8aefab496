package dev.cellar.cli;

import java.io.PrintWriter;

/** The {@code cellar} process entry point (bin/cellar runs this class). */
public final class CellarMain {

    private CellarMain() {
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int code = new CellarCommandLine(CliEnvironment.ofProcess()).run(args, out, err);
        System.exit(code);
    }
}
