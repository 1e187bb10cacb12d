package io.forkyard.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * Host memory as Linux reports it. Sandboxes are host processes (runsc's sandbox and gofer), each
 * carrying its sandbox id on its command line; their proportional set size (PSS) splits pages
 * shared between forks of one snapshot fairly, so the sum over K forks divided by K is what one
 * more fork costs the host.
 */
final class HostMemory {
  private static final Path PROC = Path.of("/proc");

  private HostMemory() {}

  /**
   * Sum of PSS in KiB over every process whose command line mentions one of {@code ids}, or empty
   * when not every id has a process (the runtime names its processes differently, or this is not
   * Linux): the caller then falls back to {@link #availableKib()}.
   */
  static OptionalLong pssKib(Collection<String> ids) {
    if (!Files.isDirectory(PROC)) {
      return OptionalLong.empty();
    }
    long total = 0;
    java.util.Set<String> seen = new java.util.HashSet<>();
    try (Stream<Path> procs = Files.list(PROC)) {
      for (Path p : (Iterable<Path>) procs::iterator) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) {
          continue;
        }
        String cmdline = cmdline(p);
        if (cmdline.isEmpty()) {
          continue;
        }
        String owner = null;
        for (String id : ids) {
          if (cmdline.contains(id)) {
            owner = id;
            break;
          }
        }
        if (owner == null) {
          continue;
        }
        OptionalLong pss = pss(p);
        if (pss.isPresent()) {
          total += pss.getAsLong();
          seen.add(owner);
        }
      }
    } catch (IOException e) {
      return OptionalLong.empty();
    }
    return seen.size() == ids.size() ? OptionalLong.of(total) : OptionalLong.empty();
  }

  /** MemAvailable from /proc/meminfo in KiB. */
  static OptionalLong availableKib() {
    return meminfo("MemAvailable:");
  }

  static OptionalLong totalKib() {
    return meminfo("MemTotal:");
  }

  private static OptionalLong meminfo(String key) {
    try {
      for (String line : Files.readAllLines(PROC.resolve("meminfo"))) {
        if (line.startsWith(key)) {
          return OptionalLong.of(kib(line));
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or /proc not readable
    }
    return OptionalLong.empty();
  }

  private static OptionalLong pss(Path proc) {
    try {
      List<String> lines = Files.readAllLines(proc.resolve("smaps_rollup"));
      for (String line : lines) {
        if (line.startsWith("Pss:")) {
          return OptionalLong.of(kib(line));
        }
      }
    } catch (IOException | RuntimeException e) {
      // the process ended meanwhile, or we may not read it
    }
    return OptionalLong.empty();
  }

  private static String cmdline(Path proc) {
    try {
      byte[] raw = Files.readAllBytes(proc.resolve("cmdline"));
      return new String(raw, StandardCharsets.UTF_8).replace('\0', ' ');
    } catch (IOException e) {
      return "";
    }
  }

  /** Parses "Key: 1234 kB". */
  static long kib(String line) {
    String[] parts = line.trim().split("\\s+");
    return Long.parseLong(parts[1]);
  }
}
