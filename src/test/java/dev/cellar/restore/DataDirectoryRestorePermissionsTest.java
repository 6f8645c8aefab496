package dev.cellar.restore;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DataDirectoryRestorePermissionsTest {

    @ParameterizedTest(name = "{0} is {1}")
    @CsvSource({
            "0700, rwx------",
            "0600, rw-------",
            "0755, rwxr-xr-x",
            "0750, rwxr-x---", // group access (initdb -g)
            "0640, rw-r-----",
            "0000, ---------",
            "0777, rwxrwxrwx",
            "0421, r---w---x"})
    void an_octal_mode_maps_to_the_same_permissions_as_ls_shows(String octal, String expected) {
        assertThat(PosixFilePermissions.toString(DataDirectoryRestore.permissions(Integer.parseInt(octal, 8)))).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} ignores setuid, setgid and sticky bits")
    @CsvSource({"04700, rwx------", "02750, rwxr-x---", "01777, rwxrwxrwx", "0100600, rw-------"})
    void bits_above_the_permission_bits_are_ignored(String octal, String expected) {
        assertThat(PosixFilePermissions.toString(DataDirectoryRestore.permissions(Integer.parseInt(octal, 8)))).isEqualTo(expected);
    }
}
