package dev.cellar.cli;

import picocli.CommandLine.IVersionProvider;

/** The version from the jar's manifest, or "development" when run from classes. */
final class CellarVersion implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = CellarVersion.class.getPackage().getImplementationVersion();
        return new String[] {"cellar " + (v == null ? "development" : v)};
    }
}
