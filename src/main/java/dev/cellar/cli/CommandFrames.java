package dev.cellar.cli;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The frames on {@code <cellar.home>/serve.sock}, between a {@code cellar backup} and the {@code cellar serve} that
 * runs it (design 2.2): a type byte, a 4-byte length and that many bytes of UTF-8 text.
 *
 * <p>The client sends {@link #FIELD} frames ({@code name}, a NUL, the value; {@code arg} and {@code env} repeat) and
 * one {@link #REQUEST}; serve answers {@link #REFUSED} (the reason: the client then runs the command itself) or
 * {@link #ACCEPTED} (serve's pid), then {@link #OUT} and {@link #ERR} text as the command prints it and one
 * {@link #EXIT} (the exit code). A {@link #CANCEL} from the client, or its connection closing, stops the job.
 */
final class CommandFrames {

    static final byte FIELD = 'F';
    static final byte REQUEST = 'Q';
    static final byte ACCEPTED = 'A';
    static final byte REFUSED = 'R';
    static final byte OUT = 'O';
    static final byte ERR = 'E';
    static final byte EXIT = 'X';
    static final byte CANCEL = 'C';

    /** A larger frame is a protocol error, not something to allocate. */
    static final int MAX_LENGTH = 16 << 20;

    record Frame(byte type, String text) {
        /** A field's name (before the NUL). */
        String name() {
            int nul = text.indexOf('\0');
            return nul < 0 ? text : text.substring(0, nul);
        }

        /** A field's value (after the NUL). */
        String value() {
            int nul = text.indexOf('\0');
            return nul < 0 ? "" : text.substring(nul + 1);
        }
    }

    /**
     * Variables that do not change what a command does: the launcher's start-up cache settings, and the configuration
     * file (compared as a file). {@code CELLAR_JAVA_OPTS} counts: it may set system properties the code reads.
     */
    private static final java.util.Set<String> LAUNCHER_VARIABLES = java.util.Set.of("CELLAR_CDS", "CELLAR_CDS_DIR", "CELLAR_CONFIG");

    private CommandFrames() {
    }

    /**
     * The environment variables that change what a command does ({@code CELLAR_*} overrides, log settings and JVM
     * options, libpq's {@code PG*}, {@code SUDO_USER} for the audit): serve runs a command only when its own are the same.
     */
    static java.util.SortedMap<String, String> relevantEnvironment(java.util.Map<String, String> variables) {
        java.util.SortedMap<String, String> relevant = new java.util.TreeMap<>();
        variables.forEach((k, v) -> {
            if ((k.startsWith("CELLAR_") && !LAUNCHER_VARIABLES.contains(k)) || k.startsWith("PG") || k.equals("SUDO_USER")) {
                relevant.put(k, v);
            }
        });
        return relevant;
    }

    /** This build of Cellar: the jar (or class directory) the classes come from, its size and modification time. */
    static String build() {
        try {
            java.nio.file.Path code = java.nio.file.Path.of(CommandFrames.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return code + " " + java.nio.file.Files.size(code) + " " + java.nio.file.Files.getLastModifiedTime(code).toMillis();
        } catch (java.net.URISyntaxException | IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /**
     * A stream reading {@code channel}. Not {@code Channels.newInputStream}: on Java 17 its reads and the writes of
     * {@code Channels.newOutputStream} lock the same monitor, so a thread waiting for a frame would block the other's writes.
     */
    static java.io.InputStream input(java.nio.channels.SocketChannel channel) {
        return new java.io.InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return len == 0 ? 0 : channel.read(java.nio.ByteBuffer.wrap(b, off, len));
            }
        };
    }

    /** A stream writing {@code channel} (see {@link #input}). */
    static java.io.OutputStream output(java.nio.channels.SocketChannel channel) {
        return new java.io.OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(b, off, len);
                while (buf.hasRemaining()) {
                    channel.write(buf);
                }
            }
        };
    }

    static void write(DataOutputStream out, byte type, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        synchronized (out) {
            out.writeByte(type);
            out.writeInt(bytes.length);
            out.write(bytes);
            out.flush();
        }
    }

    static void field(DataOutputStream out, String name, String value) throws IOException {
        write(out, FIELD, name + '\0' + value);
    }

    /** The next frame, or null at the end of the stream. */
    static Frame read(DataInputStream in) throws IOException {
        int type = in.read();
        if (type < 0) {
            return null;
        }
        int length = in.readInt();
        if (length < 0 || length > MAX_LENGTH) {
            throw new IOException("a frame of " + length + " bytes on the command socket");
        }
        byte[] bytes = in.readNBytes(length);
        if (bytes.length < length) {
            throw new EOFException("the command socket closed inside a frame");
        }
        return new Frame((byte) type, new String(bytes, StandardCharsets.UTF_8));
    }
}
