package io.forkyard.core.image;

import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.RuntimeUnavailableException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

/** What a fresh debootstrap tree needs to serve as a read-only sandbox root. */
final class SandboxFixes {
  private SandboxFixes() {}

  static void apply(Path rootfs) throws IOException {
    // Package caches and lists: ~80 MB nobody inside a network-less sandbox can use; packages
    // come in as .debs downloaded on the host (DebianPackages).
    deleteFiles(rootfs.resolve("var/cache/apt/archives"), ".deb");
    deleteFiles(rootfs.resolve("var/cache/apt"), ".bin");
    deleteFiles(rootfs.resolve("var/lib/apt/lists"), "");

    // World-writable sticky temp dirs, whatever umask the build ran with.
    for (String t : new String[] {"tmp", "var/tmp"}) {
      Path p = rootfs.resolve(t);
      if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        Files.createDirectories(p);
      }
      Files.setAttribute(p, "unix:mode", 01777, LinkOption.NOFOLLOW_LINKS);
    }
    Path root = rootfs.resolve("root");
    Files.createDirectories(root);
    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));

    // debootstrap copies the host's hostname in; the runtime sets each sandbox's own.
    write(rootfs, "/etc/hostname", "sandbox\n", "rw-r--r--");
    if (!Files.exists(rootfs.resolve("etc/hosts"), LinkOption.NOFOLLOW_LINKS)) {
      write(
          rootfs,
          "/etc/hosts",
          "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
          "rw-r--r--");
    }
    // `dpkg -i` inside a sandbox must not try to start daemons (there is no init).
    write(rootfs, "/usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", "rwxr-xr-x");
    // fsync per file is slow through gVisor's gofer and pointless on a memory overlay.
    write(rootfs, "/etc/dpkg/dpkg.cfg.d/forkyard-unsafe-io", "force-unsafe-io\n", "rw-r--r--");
    // apt's download user _apt cannot work inside a sandbox (DESIGN.md §4).
    write(
        rootfs,
        "/etc/apt/apt.conf.d/99forkyard-sandbox",
        "APT::Sandbox::User \"root\";\n",
        "rw-r--r--");
    installCompatLibrary(rootfs);
  }

  static final String COMPAT_LIBRARY = "/usr/lib/forkyard/libforkyard-compat.so";

  /**
   * Compiles forkyard-compat.c (see there: runsc rejects a statx flag coreutils uses) with the
   * host's C compiler into the image and preloads it into every process.
   */
  static void installCompatLibrary(Path rootfs) throws IOException {
    Path cc =
        HostTools.find("cc")
            .or(() -> HostTools.find("gcc"))
            .orElseThrow(
                () ->
                    new RuntimeUnavailableException(
                        "building an image needs a C compiler on the host (for a small"
                            + " compatibility library); install it with: apt-get install -y gcc"
                            + " libc6-dev"));
    Path source = Files.createTempFile("forkyard-compat", ".c");
    try (InputStream in = SandboxFixes.class.getResourceAsStream("forkyard-compat.c")) {
      if (in == null) {
        throw new IllegalStateException("forkyard-compat.c is missing from the class path");
      }
      Files.copy(in, source, StandardCopyOption.REPLACE_EXISTING);
      Path lib = RootfsPaths.forWrite(rootfs, COMPAT_LIBRARY);
      Files.createDirectories(lib.getParent());
      HostTools.Outcome out =
          HostTools.run(
              List.of(
                  cc.toString(),
                  "-shared",
                  "-fPIC",
                  "-O2",
                  "-fno-stack-protector",
                  "-o",
                  lib.toString(),
                  source.toString()),
              Map.of(),
              20,
              line -> {});
      if (out.exitCode() != 0) {
        throw new ForkyardException(
            ErrorCode.INTERNAL,
            "compiling the sandbox compatibility library failed (is libc6-dev installed?):\n"
                + out.tailText());
      }
      Files.setPosixFilePermissions(lib, PosixFilePermissions.fromString("rw-r--r--"));
    } finally {
      Files.deleteIfExists(source);
    }
    write(rootfs, "/etc/ld.so.preload", COMPAT_LIBRARY + "\n", "rw-r--r--");
  }

  private static void write(Path rootfs, String sandboxPath, String content, String perms)
      throws IOException {
    Path p = RootfsPaths.forWrite(rootfs, sandboxPath);
    Files.deleteIfExists(p);
    Files.writeString(p, content, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(perms));
  }

  private static void deleteFiles(Path dir, String suffix) throws IOException {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
      for (Path p : s) {
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)
            && p.getFileName().toString().endsWith(suffix)
            && !p.getFileName().toString().equals("lock")) {
          Files.delete(p);
        }
      }
    }
  }
}
