package io.forkyard.core;

import io.forkyard.core.SnapshotManifest.FileDigest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** Host file-tree helpers for state directories: sizes, digests, recursive delete. */
final class FileTrees {
  private FileTrees() {}

  /** Deletes a tree without following symlinks; a missing path is fine. */
  static void deleteRecursively(Path root) {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try {
      Files.walkFileTree(
          root,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
              if (exc instanceof NoSuchFileException) {
                return FileVisitResult.CONTINUE;
              }
              throw exc;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc)
                throws IOException {
              Files.deleteIfExists(dir);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + root, e);
    }
  }

  static long size(Path root) throws IOException {
    if (!Files.exists(root)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(root)) {
      long total = 0;
      for (Path p : s.toList()) {
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          total += Files.size(p);
        }
      }
      return total;
    }
  }

  /** Digests of every regular file under the named children of {@code dir}, sorted by path. */
  static List<FileDigest> digest(Path dir, List<String> children) throws IOException {
    List<FileDigest> out = new ArrayList<>();
    for (String child : children) {
      Path start = dir.resolve(child);
      if (!Files.exists(start)) {
        continue;
      }
      try (Stream<Path> s = Files.walk(start)) {
        for (Path p : s.sorted().toList()) {
          if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
            out.add(new FileDigest(dir.relativize(p).toString(), Files.size(p), sha256(p)));
          }
        }
      }
    }
    return out;
  }

  static String combined(List<FileDigest> digests) {
    MessageDigest md = sha();
    for (FileDigest d : digests) {
      md.update((d.path() + "\0" + d.size() + "\0" + d.sha256() + "\n").getBytes());
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /**
   * Checks that the files exist with their recorded sizes and, when {@code full}, contents.
   *
   * @return a description of the first problem, or null when all is well
   */
  static String verify(Path dir, List<FileDigest> files, boolean full) {
    if (files.isEmpty()) {
      return "its manifest lists no data files";
    }
    for (FileDigest d : files) {
      Path p = dir.resolve(d.path()).normalize();
      if (!p.startsWith(dir)) {
        return "manifest names a file outside the snapshot: " + d.path();
      }
      try {
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          return d.path() + " is missing";
        }
        long size = Files.size(p);
        if (size != d.size()) {
          return d.path() + " has " + size + " bytes, expected " + d.size();
        }
        if (full && !sha256(p).equals(d.sha256())) {
          return d.path() + " does not match its checksum";
        }
      } catch (IOException e) {
        return d.path() + " cannot be read: " + e.getMessage();
      }
    }
    return null;
  }

  static String sha256(Path file) throws IOException {
    MessageDigest md = sha();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static MessageDigest sha() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
