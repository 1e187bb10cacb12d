package io.forkyard.core;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * Extracts a tar stream that came out of a sandbox into a host directory, treating it as hostile:
 * no absolute paths, no {@code ..}, never writes through a symlink (an entry whose parent path
 * crosses a symlink is skipped), never writes into an existing file (it is replaced: the tree may
 * share inodes with an image through hard links). Reads ustar, GNU long names and pax path headers;
 * device nodes and FIFOs are skipped.
 */
final class TarExtractor {
  private final Path root;
  private int skipped;
  private int extracted;

  TarExtractor(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  int skipped() {
    return skipped;
  }

  int extracted() {
    return extracted;
  }

  void extract(InputStream raw) throws IOException {
    InputStream in = new BufferedInputStream(raw, 1 << 16);
    byte[] header = new byte[512];
    String longName = null;
    String longLink = null;
    while (true) {
      if (!readFully(in, header)) {
        return;
      }
      if (isZero(header)) {
        return;
      }
      String name = cstr(header, 0, 100);
      String prefix = cstr(header, 345, 155);
      if (!prefix.isEmpty() && (header[257] == 'u')) {
        name = prefix + "/" + name;
      }
      int mode = (int) octal(header, 100, 8);
      int uid = (int) octal(header, 108, 8);
      int gid = (int) octal(header, 116, 8);
      long size = octal(header, 124, 12);
      char type = (char) header[156];
      String link = cstr(header, 157, 100);
      switch (type) {
        case 'L' -> {
          longName = stripNul(new String(readData(in, size), StandardCharsets.UTF_8));
          continue;
        }
        case 'K' -> {
          longLink = stripNul(new String(readData(in, size), StandardCharsets.UTF_8));
          continue;
        }
        case 'x' -> {
          String pax = new String(readData(in, size), StandardCharsets.UTF_8);
          for (String rec : pax.split("\n")) {
            int sp = rec.indexOf(' ');
            int eq = rec.indexOf('=');
            if (sp > 0 && eq > sp) {
              String key = rec.substring(sp + 1, eq);
              if (key.equals("path")) {
                longName = rec.substring(eq + 1);
              } else if (key.equals("linkpath")) {
                longLink = rec.substring(eq + 1);
              }
            }
          }
          continue;
        }
        case 'g' -> {
          readData(in, size);
          continue;
        }
        default -> {}
      }
      if (longName != null) {
        name = longName;
        longName = null;
      }
      if (longLink != null) {
        link = longLink;
        longLink = null;
      }
      Path target = safeTarget(name);
      long dataSize =
          (type == '0' || type == '\0' || type == '7') ? size : (type == '5' ? 0 : size);
      if (target == null) {
        skip(in, dataSize);
        skipped++;
        continue;
      }
      switch (type) {
        case '0', '\0', '7' -> {
          replace(target);
          try (OutputStream out =
              Files.newOutputStream(
                  target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            copy(in, out, size);
          }
          skipPadding(in, size);
          attributes(target, mode, uid, gid);
        }
        case '5' -> {
          if (Files.isSymbolicLink(target)
              || (Files.exists(target, LinkOption.NOFOLLOW_LINKS)
                  && !Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS))) {
            replace(target);
          }
          Files.createDirectories(target);
          attributes(target, mode, uid, gid);
          skip(in, size);
        }
        case '2' -> {
          replace(target);
          Files.createSymbolicLink(target, Path.of(link));
          setOwner(target, uid, gid);
          skip(in, size);
        }
        case '1' -> {
          Path source = safeTarget(link);
          skip(in, size);
          if (source == null || !Files.isRegularFile(source, LinkOption.NOFOLLOW_LINKS)) {
            skipped++;
            continue;
          }
          replace(target);
          Files.createLink(target, source);
        }
        default -> {
          skip(in, size);
          skipped++;
          continue;
        }
      }
      extracted++;
    }
  }

  /** The host path for an entry, or null when the entry must not be extracted. */
  private Path safeTarget(String name) throws IOException {
    String n = name;
    while (n.startsWith("./")) {
      n = n.substring(2);
    }
    while (n.startsWith("/")) {
      n = n.substring(1);
    }
    if (n.isEmpty() || n.equals(".")) {
      return null;
    }
    Path current = root;
    String[] parts = n.split("/");
    for (int i = 0; i < parts.length; i++) {
      String part = parts[i];
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..") || part.indexOf('\0') >= 0) {
        return null;
      }
      current = current.resolve(part);
      boolean last = i == parts.length - 1;
      if (!last && Files.isSymbolicLink(current)) {
        return null;
      }
      if (!last
          && Files.exists(current, LinkOption.NOFOLLOW_LINKS)
          && !Files.isDirectory(current, LinkOption.NOFOLLOW_LINKS)) {
        return null;
      }
    }
    Path normalized = current.normalize();
    if (!normalized.startsWith(root) || normalized.equals(root)) {
      return null;
    }
    Files.createDirectories(normalized.getParent());
    return normalized;
  }

  private static void replace(Path target) throws IOException {
    if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      FileTrees.deleteRecursively(target);
    } else {
      Files.deleteIfExists(target);
    }
  }

  private static void attributes(Path p, int mode, int uid, int gid) throws IOException {
    Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] order = {
      PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
          PosixFilePermission.OTHERS_READ,
      PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.GROUP_READ,
      PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
          PosixFilePermission.OWNER_READ
    };
    for (int bit = 0; bit < 9; bit++) {
      if ((mode & (1 << bit)) != 0) {
        perms.add(order[bit]);
      }
    }
    setOwner(p, uid, gid);
    Files.setPosixFilePermissions(p, perms);
  }

  private static void setOwner(Path p, int uid, int gid) {
    try {
      Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
      Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      // not root: files stay owned by us, which is what an unprivileged rootfs has anyway
    }
  }

  private static byte[] readData(InputStream in, long size) throws IOException {
    if (size > 1 << 20) {
      throw new IOException("tar header record of " + size + " bytes is implausibly large");
    }
    byte[] data = new byte[(int) size];
    if (!readFully(in, data)) {
      throw new EOFException("truncated tar");
    }
    skipPadding(in, size);
    return data;
  }

  private static void copy(InputStream in, OutputStream out, long size) throws IOException {
    byte[] buf = new byte[1 << 16];
    long left = size;
    while (left > 0) {
      int n = in.read(buf, 0, (int) Math.min(buf.length, left));
      if (n < 0) {
        throw new EOFException("truncated tar");
      }
      out.write(buf, 0, n);
      left -= n;
    }
  }

  private static void skip(InputStream in, long size) throws IOException {
    long padded = (size + 511) / 512 * 512;
    long left = padded;
    while (left > 0) {
      long n = in.skip(left);
      if (n <= 0) {
        if (in.read() < 0) {
          throw new EOFException("truncated tar");
        }
        n = 1;
      }
      left -= n;
    }
  }

  private static void skipPadding(InputStream in, long size) throws IOException {
    long pad = (512 - size % 512) % 512;
    for (long i = 0; i < pad; i++) {
      if (in.read() < 0) {
        throw new EOFException("truncated tar");
      }
    }
  }

  private static boolean readFully(InputStream in, byte[] b) throws IOException {
    int off = 0;
    while (off < b.length) {
      int n = in.read(b, off, b.length - off);
      if (n < 0) {
        if (off == 0) {
          return false;
        }
        throw new EOFException("truncated tar");
      }
      off += n;
    }
    return true;
  }

  private static boolean isZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  private static String cstr(byte[] b, int off, int len) {
    int end = off;
    while (end < off + len && b[end] != 0) {
      end++;
    }
    return new String(b, off, end - off, StandardCharsets.UTF_8);
  }

  private static String stripNul(String s) {
    int i = s.indexOf('\0');
    return i >= 0 ? s.substring(0, i) : s;
  }

  private static long octal(byte[] b, int off, int len) {
    if ((b[off] & 0x80) != 0) {
      long v = 0;
      for (int i = off + 1; i < off + len; i++) {
        v = (v << 8) | (b[i] & 0xff);
      }
      return v;
    }
    String s = cstr(b, off, len).trim();
    return s.isEmpty() ? 0 : Long.parseLong(s, 8);
  }
}
