package io.forkyard.core;

import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import io.forkyard.core.spi.RuntimeSandbox;
import io.forkyard.core.spi.SandboxRuntime;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A FILESYSTEM snapshot is a new read-only root filesystem: the sandbox's own rootfs, hard-linked
 * (cheap, and the base is never written: files are replaced, not overwritten), with the tar of the
 * sandbox's changes extracted on top. Forks cold-boot from it like from an image. Deleted files are
 * not carried over (the export holds only created and changed files).
 */
final class FilesystemSnapshots {
  private FilesystemSnapshots() {}

  static void take(
      SandboxRuntime runtime,
      RuntimeSandbox sandbox,
      Path snapDir,
      Path baseRootfs,
      long limitBytes)
      throws IOException {
    Path tar = snapDir.resolve("changes.tar");
    runtime.exportChanges(sandbox, tar);
    long size = Files.size(tar);
    if (size > limitBytes) {
      throw new ForkyardException(
          ErrorCode.LIMIT_EXCEEDED,
          "the sandbox's changed files take "
              + size
              + " bytes, more than its disk limit of "
              + limitBytes);
    }
    Path tmp = snapDir.resolve("rootfs.partial");
    FileTrees.deleteRecursively(tmp);
    hardLinkCopy(baseRootfs, tmp);
    try (InputStream in = Files.newInputStream(tar)) {
      new TarExtractor(tmp).extract(in);
    }
    Files.move(tmp, snapDir.resolve("rootfs"));
  }

  private static void hardLinkCopy(Path from, Path to) throws IOException {
    Process p =
        new ProcessBuilder(List.of("cp", "-a", "--link", from.toString(), to.toString()))
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    try {
      if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new IOException("cp --link " + from + " failed: " + out.strip());
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while copying " + from, e);
    }
  }
}
