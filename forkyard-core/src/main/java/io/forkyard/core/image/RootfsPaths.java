package io.forkyard.core.image;

import io.forkyard.api.InvalidRequestException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * Resolves a sandbox path inside a root filesystem on the host as the sandbox would see it. The
 * rootfs is full of absolute symlinks ({@code /lib -> usr/lib}, alternatives in /etc); following
 * them naively on the host would write into the host's own /usr or /etc.
 */
final class RootfsPaths {
  private static final int MAX_LINKS = 40;

  private RootfsPaths() {}

  /**
   * The host path of {@code sandboxPath} inside {@code rootfs}, with every symlink in its parents
   * resolved relative to the rootfs (".." never leaves it) and missing parent directories created.
   * The last component is not resolved: a symlink there is replaced, not followed.
   */
  static Path forWrite(Path rootfs, String sandboxPath) {
    if (!sandboxPath.startsWith("/")) {
      throw new InvalidRequestException("sandbox path must be absolute: " + sandboxPath);
    }
    List<String> parts = List.of(sandboxPath.split("/+"));
    Deque<String> todo = new ArrayDeque<>();
    String last = "";
    for (String p : parts) {
      if (!p.isEmpty()) {
        todo.addLast(p);
      }
    }
    if (todo.isEmpty()) {
      throw new InvalidRequestException("sandbox path names no file: " + sandboxPath);
    }
    last = todo.removeLast();
    if (last.equals("..") || last.equals(".")) {
      throw new InvalidRequestException("sandbox path must name a file: " + sandboxPath);
    }
    Path current = rootfs;
    int links = 0;
    try {
      while (!todo.isEmpty()) {
        String c = todo.removeFirst();
        if (c.equals(".")) {
          continue;
        }
        if (c.equals("..")) {
          current = current.equals(rootfs) ? rootfs : current.getParent();
          continue;
        }
        Path next = current.resolve(c);
        if (Files.isSymbolicLink(next)) {
          if (++links > MAX_LINKS) {
            throw new InvalidRequestException("too many symlinks resolving " + sandboxPath);
          }
          String target = Files.readSymbolicLink(next).toString();
          if (target.startsWith("/")) {
            current = rootfs;
          }
          String[] tparts = target.split("/+");
          for (int i = tparts.length - 1; i >= 0; i--) {
            if (!tparts[i].isEmpty()) {
              todo.addFirst(tparts[i]);
            }
          }
        } else if (!Files.exists(next, LinkOption.NOFOLLOW_LINKS)) {
          Files.createDirectory(next);
          current = next;
        } else if (Files.isDirectory(next, LinkOption.NOFOLLOW_LINKS)) {
          current = next;
        } else {
          throw new InvalidRequestException(
              "cannot place "
                  + sandboxPath
                  + ": "
                  + rootfs.relativize(next)
                  + " is not a directory");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return current.resolve(last);
  }
}
