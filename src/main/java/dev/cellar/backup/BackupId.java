package dev.cellar.backup;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.regex.Pattern;

/** A backup's ID: {@code YYYYMMDDTHHMMSS}, the UTC time it was launched, as Barman names them. IDs sort by time. */
public final class BackupId {

    private static final DateTimeFormatter FORMAT = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss").withZone(ZoneOffset.UTC);
    private static final Pattern FORM = Pattern.compile("\\d{8}T\\d{6}");

    private BackupId() {
    }

    public static String at(Instant time) {
        return FORMAT.format(time);
    }

    /** The launch time an ID names. */
    public static Instant parse(String id) {
        if (!isValid(id)) {
            throw new IllegalArgumentException("not a backup ID: " + id);
        }
        return java.time.LocalDateTime.parse(id, DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss")).toInstant(ZoneOffset.UTC);
    }

    public static boolean isValid(String id) {
        return id != null && FORM.matcher(id).matches();
    }
}
