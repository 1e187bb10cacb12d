package io.forkyard.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.forkyard.api.InvalidRequestException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RootfsPathsTest {
  @TempDir Path tmp;

  @Test
  void absoluteSymlinksResolveInsideTheRootfs() throws Exception {
    Path rootfs = Files.createDirectories(tmp.resolve("rootfs"));
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.createDirectories(rootfs.resolve("usr/lib"));
    Files.createSymbolicLink(rootfs.resolve("lib"), Path.of("usr/lib"));
    // points at a host directory if followed naively
    Files.createSymbolicLink(rootfs.resolve("evil"), outside);

    assertThat(RootfsPaths.forWrite(rootfs, "/lib/x.so")).isEqualTo(rootfs.resolve("usr/lib/x.so"));
    Path p = RootfsPaths.forWrite(rootfs, "/evil/file");
    assertThat(p.startsWith(rootfs)).isTrue();
    assertThat(p).isEqualTo(rootfs.resolve(outside.toString().substring(1)).resolve("file"));
  }

  @Test
  void dotDotNeverLeavesTheRootfs() throws Exception {
    Path rootfs = Files.createDirectories(tmp.resolve("rootfs"));
    assertThat(RootfsPaths.forWrite(rootfs, "/../../etc/passwd"))
        .isEqualTo(rootfs.resolve("etc/passwd"));
    Files.createSymbolicLink(rootfs.resolve("up"), Path.of("../../.."));
    assertThat(RootfsPaths.forWrite(rootfs, "/up/etc/x")).isEqualTo(rootfs.resolve("etc/x"));
  }

  @Test
  void rejectsRelativeAndEmptyPaths() throws Exception {
    Path rootfs = Files.createDirectories(tmp.resolve("rootfs"));
    assertThatThrownBy(() -> RootfsPaths.forWrite(rootfs, "etc/x"))
        .isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> RootfsPaths.forWrite(rootfs, "/"))
        .isInstanceOf(InvalidRequestException.class);
  }

  @Test
  void rejectsSymlinkLoops() throws Exception {
    Path rootfs = Files.createDirectories(tmp.resolve("rootfs"));
    Files.createSymbolicLink(rootfs.resolve("a"), Path.of("/b"));
    Files.createSymbolicLink(rootfs.resolve("b"), Path.of("/a"));
    assertThatThrownBy(() -> RootfsPaths.forWrite(rootfs, "/a/x"))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("symlinks");
  }

  @Test
  void copyIntoReplacesASymlinkInsteadOfWritingThroughIt() throws Exception {
    Path rootfs = Files.createDirectories(tmp.resolve("rootfs"));
    Path hostTarget = Files.writeString(tmp.resolve("host-file"), "host");
    Files.createDirectories(rootfs.resolve("etc"));
    Files.createSymbolicLink(rootfs.resolve("etc/conf"), hostTarget);
    Path src = Files.writeString(tmp.resolve("src"), "mine");

    ImageStore.copyInto(rootfs, "/etc/conf", src);

    assertThat(rootfs.resolve("etc/conf")).isRegularFile().hasContent("mine");
    assertThat(hostTarget).hasContent("host");
  }

  @Test
  void copyIntoCopiesDirectoriesWithModes() throws Exception {
    Path rootfs = Files.createDirectories(tmp.resolve("rootfs"));
    Path src = Files.createDirectories(tmp.resolve("tool/bin"));
    Path script = Files.writeString(src.resolve("run"), "#!/bin/sh\n");
    script.toFile().setExecutable(true);

    ImageStore.copyInto(rootfs, "/opt/tool", tmp.resolve("tool"));

    assertThat(rootfs.resolve("opt/tool/bin/run")).hasContent("#!/bin/sh\n").isExecutable();
  }
}
