package dev.cellar.config;

import java.util.Locale;

/** How the repository compresses data: {@code zstd} (levels 1..19, default 3), {@code lz4} or {@code none}. */
public record Compression(Algorithm algorithm, int level) {

    public static final String EXPECTED_FORM = "\"zstd\", \"zstd:<1..19>\", \"lz4\" or \"none\"";

    public enum Algorithm { ZSTD, LZ4, NONE }

    public static final Compression DEFAULT = new Compression(Algorithm.ZSTD, 3);

    public static Compression parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.equals("zstd")) {
                return DEFAULT;
            }
            if (t.startsWith("zstd:")) {
                int level = Integer.parseInt(t.substring(5));
                if (level >= 1 && level <= 19) {
                    return new Compression(Algorithm.ZSTD, level);
                }
            }
        } catch (NumberFormatException e) {
            // falls through to the error below
        }
        if (t.equals("lz4")) {
            return new Compression(Algorithm.LZ4, 0);
        }
        if (t.equals("none")) {
            return new Compression(Algorithm.NONE, 0);
        }
        throw new IllegalArgumentException("'" + text + "' is not a compression; expected " + EXPECTED_FORM);
    }

    @Override
    public String toString() {
        return switch (algorithm) {
            case ZSTD -> "zstd:" + level;
            case LZ4 -> "lz4";
            case NONE -> "none";
        };
    }
}
