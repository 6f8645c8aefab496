package dev.cellar.storage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.commons.vfs2.FileSystemOptions;
import org.apache.commons.vfs2.provider.sftp.SftpFileSystemConfigBuilder;
import org.apache.sshd.common.file.virtualfs.VirtualFileSystemFactory;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The VFS driver over sftp:// against a real in-process SFTP server (Apache MINA SSHD) on loopback. */
class SftpStorageTest extends StorageContract {

    static SshServer server;
    static Path serverRoot;

    @TempDir
    static Path dir;

    @BeforeAll
    static void startServer() throws Exception {
        serverRoot = Files.createDirectories(dir.resolve("sftp-root"));
        server = SshServer.setUpDefaultServer();
        server.setHost("127.0.0.1");
        server.setPort(0);
        server.setKeyPairProvider(new SimpleGeneratorHostKeyProvider(dir.resolve("hostkey.ser")));
        server.setPasswordAuthenticator((user, password, session) -> "cellar".equals(user) && "test-secret".equals(password));
        server.setSubsystemFactories(List.of(new SftpSubsystemFactory()));
        server.setFileSystemFactory(new VirtualFileSystemFactory(serverRoot));
        server.start();
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.stop(true);
    }

    private static int n;

    @Override
    Storage open() throws Exception {
        FileSystemOptions options = new FileSystemOptions();
        SftpFileSystemConfigBuilder sftp = SftpFileSystemConfigBuilder.getInstance();
        sftp.setStrictHostKeyChecking(options, "no");
        sftp.setUserDirIsRoot(options, false);
        String uri = "sftp://cellar:test-secret@127.0.0.1:" + server.getPort() + "/repo-" + (n++);
        VfsStorage s = new VfsStorage(uri, options);
        org.assertj.core.api.Assertions.assertThat(s.uri()).doesNotContain("test-secret");
        return s;
    }
}
