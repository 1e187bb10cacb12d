package io.forkyard.core.image;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Whole-tree operations on root filesystems: never follow symlinks, never cross a mount. */
final class Trees {
  private Trees() {}

  /**
   * Deletes a tree. A debootstrap killed half-way can leave proc, sysfs or bind mounts of host
   * devices inside its target; those are unmounted first, and the walk refuses to descend into
   * another filesystem rather than delete host files through a leftover mount.
   */
  static void deleteTree(Path root) {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    unmountUnder(root);
    try {
      Object rootDev = Files.getAttribute(root, "unix:dev", LinkOption.NOFOLLOW_LINKS);
      Files.walkFileTree(
          root,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
                throws IOException {
              if (!rootDev.equals(Files.getAttribute(dir, "unix:dev", LinkOption.NOFOLLOW_LINKS))) {
                throw new IOException(
                    dir + " is on another filesystem (a leftover mount?); unmount it and retry");
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc)
                throws IOException {
              if (exc != null) {
                throw exc;
              }
              Files.deleteIfExists(dir);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (NoSuchFileException e) {
      // someone else removed it meanwhile: the goal is reached
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + root + ": " + e.getMessage(), e);
    }
  }

  /** Unmounts (lazily, deepest first) every mount point at or below {@code root}. */
  static void unmountUnder(Path root) {
    List<String> mounts = mountPointsUnder(root);
    if (mounts.isEmpty()) {
      return;
    }
    String umount = HostTools.find("umount").map(Path::toString).orElse("umount");
    for (String m : mounts) {
      HostTools.run(List.of(umount, "-l", m), java.util.Map.of(), 5, line -> {});
    }
  }

  static List<String> mountPointsUnder(Path root) {
    String prefix = root.toAbsolutePath().normalize().toString();
    List<String> out = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
        String[] f = line.split(" ");
        if (f.length > 4) {
          String mp = unescape(f[4]);
          if (mp.equals(prefix) || mp.startsWith(prefix + "/")) {
            out.add(mp);
          }
        }
      }
    } catch (IOException e) {
      return List.of();
    }
    out.sort(Comparator.comparingInt(String::length).reversed());
    return out;
  }

  private static String unescape(String s) {
    return s.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\");
  }

  /** Bytes of regular files (hard links counted once) and number of entries in a tree. */
  record Usage(long bytes, long entries) {}

  static Usage usage(Path root) {
    long[] total = {0, 0};
    Set<Object> seen = new HashSet<>();
    try {
      Files.walkFileTree(
          root,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
              total[1]++;
              if (attrs.isRegularFile() && (attrs.fileKey() == null || seen.add(attrs.fileKey()))) {
                total[0] += attrs.size();
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) {
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Usage(total[0], total[1]);
  }
}
