package dev.cellar.storage;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.commons.vfs2.FileObject;
import org.apache.commons.vfs2.FileSystemException;
import org.apache.commons.vfs2.FileSystemManager;
import org.apache.commons.vfs2.FileSystemOptions;
import org.apache.commons.vfs2.FileType;
import org.apache.commons.vfs2.RandomAccessContent;
import org.apache.commons.vfs2.impl.StandardFileSystemManager;
import org.apache.commons.vfs2.provider.sftp.SftpFileSystemConfigBuilder;
import org.apache.commons.vfs2.util.RandomAccessMode;

/**
 * Any Apache Commons VFS URI ({@code sftp://}, and others VFS knows). Writes go to a temporary
 * name and are renamed into place; on stores where a rename onto an existing name is not atomic
 * (SFTP), write-once files are still never overwritten because the existence check comes first,
 * and metadata files are kept twice (X and X.copy) by the repository for exactly this reason.
 */
public final class VfsStorage implements Storage {

    private final StandardFileSystemManager manager;
    private final FileObject root;
    private final String displayUri;

    public VfsStorage(String uri) throws IOException {
        this(uri, new FileSystemOptions());
    }

    public VfsStorage(String uri, FileSystemOptions options) throws IOException {
        this.manager = new StandardFileSystemManager();
        this.manager.init();
        SftpFileSystemConfigBuilder sftp = SftpFileSystemConfigBuilder.getInstance();
        sftp.setUserDirIsRoot(options, false);
        // Never run shell commands on the server: sftp-only accounts (the usual for backup targets)
        // have no exec channel, and VFS's probe for one ('id -u') waits forever there.
        sftp.setDisableDetectExecChannel(options, true);
        // A dead or unreachable server is an error, not a hang.
        if (sftp.getConnectTimeout(options) == null) {
            sftp.setConnectTimeout(options, java.time.Duration.ofSeconds(30));
        }
        if (sftp.getSessionTimeout(options) == null) {
            sftp.setSessionTimeout(options, java.time.Duration.ofMinutes(5));
        }
        this.root = manager.resolveFile(uri, options);
        this.displayUri = withoutCredentials(uri);
    }

    static String withoutCredentials(String uri) {
        try {
            URI u = new URI(uri);
            if (u.getUserInfo() != null && u.getUserInfo().contains(":")) {
                String user = u.getUserInfo().substring(0, u.getUserInfo().indexOf(':'));
                return new URI(u.getScheme(), user, u.getHost(), u.getPort(), u.getPath(), null, null).toString();
            }
        } catch (Exception e) {
            // fall through: show nothing we are unsure about
        }
        return uri.replaceAll("//[^@/]*@", "//***@");
    }

    FileSystemManager manager() {
        return manager;
    }

    @Override
    public String uri() {
        return displayUri;
    }

    private FileObject resolve(String path) throws FileSystemException {
        return root.resolveFile(Storage.checkPath(path));
    }

    @Override
    public boolean exists(String path) throws IOException {
        return resolve(path).exists();
    }

    @Override
    public long size(String path) throws IOException {
        FileObject f = resolve(path);
        if (!f.exists()) {
            throw new NoSuchFileException(path);
        }
        return f.getContent().getSize();
    }

    @Override
    public InputStream read(String path) throws IOException {
        FileObject f = resolve(path);
        if (!f.exists()) {
            throw new NoSuchFileException(path);
        }
        return f.getContent().getInputStream();
    }

    @Override
    public byte[] readRange(String path, long offset, int length) throws IOException {
        FileObject f = resolve(path);
        if (!f.exists()) {
            throw new NoSuchFileException(path);
        }
        if (f.getContent().getSize() < offset + length) {
            throw new java.io.EOFException(path + ": wanted " + length + " bytes at offset " + offset
                    + ", file ends at " + f.getContent().getSize());
        }
        try (RandomAccessContent rac = f.getContent().getRandomAccessContent(RandomAccessMode.READ)) {
            rac.seek(offset);
            byte[] out = new byte[length];
            rac.readFully(out);
            return out;
        } catch (FileSystemException e) {
            // Not every provider offers random access: skip through a stream instead.
            try (InputStream in = f.getContent().getInputStream()) {
                in.skipNBytes(offset);
                ByteArrayOutputStream bytes = new ByteArrayOutputStream(length);
                bytes.write(in.readNBytes(length));
                return bytes.toByteArray();
            }
        }
    }

    @Override
    public void write(String path, InputStream data, IfExists ifExists) throws IOException {
        FileObject target = resolve(path);
        if (ifExists == IfExists.FAIL && target.exists()) {
            throw new FileAlreadyExistsException(path);
        }
        FileObject parent = target.getParent();
        parent.createFolder();
        FileObject temp = parent.resolveFile("." + target.getName().getBaseName() + ".tmp-"
                + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        try {
            try (OutputStream out = temp.getContent().getOutputStream()) {
                data.transferTo(out);
            }
            temp.close();
            if (ifExists == IfExists.FAIL && target.exists()) {
                throw new FileAlreadyExistsException(path);
            }
            temp.moveTo(target);
        } finally {
            if (temp.exists()) {
                temp.delete();
            }
            target.refresh();
        }
    }

    @Override
    public List<Entry> list(String directory) throws IOException {
        FileObject dir = directory.isEmpty() ? root : resolve(directory);
        List<Entry> entries = new ArrayList<>();
        dir.refresh();
        if (!dir.exists() || dir.getType() != FileType.FOLDER) {
            return entries;
        }
        for (FileObject child : dir.getChildren()) {
            String name = child.getName().getBaseName();
            if (name.startsWith(".") && name.contains(".tmp-")) {
                continue;
            }
            boolean isDir = child.getType() == FileType.FOLDER;
            entries.add(new Entry(name, isDir, isDir ? 0 : child.getContent().getSize()));
        }
        entries.sort(Comparator.comparing(Entry::name));
        return entries;
    }

    @Override
    public boolean delete(String path) throws IOException {
        FileObject f = resolve(path);
        return f.exists() && f.delete();
    }

    @Override
    public void close() {
        manager.close();
    }
}
