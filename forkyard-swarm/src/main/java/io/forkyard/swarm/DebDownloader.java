package io.forkyard.swarm;

import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Fetches, on the host, the Debian packages a sandbox lacks, so the sandbox installs them with
 * {@code dpkg -i} and never needs network. apt resolves against the sandbox's own dpkg status file
 * (read out of the sandbox), so exactly the missing packages come back. Downloads are cached in one
 * directory; a resolution already done for the same status file is reused without running apt at
 * all.
 */
final class DebDownloader {
  private static final Pattern INST =
      Pattern.compile("^Inst (\\S+) (?:\\[[^\\]]*\\] )?\\((\\S+) .*\\[([^\\]]+)\\]\\)");
  private final Path cacheDir;

  DebDownloader(Path cacheDir) {
    this.cacheDir = cacheDir;
  }

  /** A resolved set: .deb files on the host, in apt's install order. */
  record Debs(List<Path> files, boolean fromCache) {
    long totalBytes() {
      return files.stream()
          .mapToLong(
              p -> {
                try {
                  return Files.size(p);
                } catch (IOException e) {
                  return 0;
                }
              })
          .sum();
    }
  }

  /**
   * The .debs needed to install {@code packages} on a system whose dpkg status file is {@code
   * dpkgStatus}. Empty when everything is installed already.
   */
  private static final Map<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();

  Debs resolve(byte[] dpkgStatus, List<String> packages) {
    try {
      Path archives = cacheDir.resolve("archives");
      Files.createDirectories(archives.resolve("partial"));
      Path sets = cacheDir.resolve("sets");
      Files.createDirectories(sets);
      String key = key(dpkgStatus, packages);
      Path manifest = sets.resolve(key + ".list");
      // The file lock keeps other processes out; it cannot be taken twice in one JVM (a second
      // thread gets OverlappingFileLockException), so threads of this JVM queue here first.
      ReentrantLock inJvm =
          JVM_LOCKS.computeIfAbsent(cacheDir.toAbsolutePath(), k -> new ReentrantLock());
      inJvm.lock();
      try (FileChannel ch =
              FileChannel.open(
                  cacheDir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock ignored = ch.lock()) {
        if (Files.isRegularFile(manifest)) {
          List<Path> cached = new ArrayList<>();
          for (String line : Files.readAllLines(manifest)) {
            if (!line.isBlank()) {
              cached.add(archives.resolve(line.trim()));
            }
          }
          if (cached.stream().allMatch(Files::isRegularFile)) {
            return new Debs(cached, true);
          }
        }
        Path status = sets.resolve(key + ".status");
        Files.write(status, dpkgStatus);
        List<String> names = simulate(status, packages);
        List<Path> files = names.stream().map(archives::resolve).toList();
        if (!files.stream().allMatch(Files::isRegularFile)) {
          download(status, archives, packages);
        }
        for (Path f : files) {
          if (!Files.isRegularFile(f)) {
            throw new ForkyardException(
                ErrorCode.INTERNAL,
                "apt-get reported "
                    + f.getFileName()
                    + " but did not download it into "
                    + archives);
          }
        }
        Files.write(manifest, names, StandardCharsets.UTF_8);
        Files.deleteIfExists(status);
        return new Debs(files, false);
      } finally {
        inJvm.unlock();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("deb cache " + cacheDir + ": " + e.getMessage(), e);
    }
  }

  /** File names of the packages apt would install, from {@code apt-get -s}. */
  private List<String> simulate(Path status, List<String> packages) {
    List<String> cmd = aptCommand(status, null);
    cmd.add("-s");
    cmd.add("install");
    cmd.addAll(packages);
    String out = run(cmd, "resolve " + String.join(" ", packages));
    return parseSimulation(out);
  }

  static List<String> parseSimulation(String aptOutput) {
    List<String> names = new ArrayList<>();
    for (String line : aptOutput.split("\n")) {
      Matcher m = INST.matcher(line);
      if (m.find()) {
        String version = m.group(2).replace(":", "%3a");
        names.add(m.group(1) + "_" + version + "_" + m.group(3) + ".deb");
      }
    }
    return names;
  }

  private void download(Path status, Path archives, List<String> packages) {
    List<String> cmd = aptCommand(status, archives);
    cmd.add("--download-only");
    cmd.add("install");
    cmd.addAll(packages);
    run(cmd, "download " + String.join(" ", packages));
  }

  private static List<String> aptCommand(Path status, Path archives) {
    List<String> cmd = new ArrayList<>();
    cmd.add("apt-get");
    cmd.add("-y");
    cmd.add("-q");
    cmd.add("--no-install-recommends");
    cmd.add("-o");
    cmd.add("Dir::State::status=" + status);
    cmd.add("-o");
    cmd.add("Debug::NoLocking=1");
    // Keep the host's own package cache out of it: it was built for the host's status file.
    cmd.add("-o");
    cmd.add("Dir::Cache::pkgcache=");
    cmd.add("-o");
    cmd.add("Dir::Cache::srcpkgcache=");
    if (archives != null) {
      cmd.add("-o");
      cmd.add("Dir::Cache::archives=" + archives);
    }
    return cmd;
  }

  private static String run(List<String> cmd, String what) {
    Process p;
    try {
      p =
          new ProcessBuilder(cmd)
              .redirectErrorStream(true)
              .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
              .start();
    } catch (IOException e) {
      throw new ForkyardException(
          ErrorCode.RUNTIME_UNAVAILABLE,
          "cannot run apt-get on the host to "
              + what
              + " ("
              + e.getMessage()
              + "); the swarm brings Debian packages into the sandbox from the host's apt",
          e);
    }
    try {
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new ForkyardException(ErrorCode.TIMEOUT, "apt-get did not finish: " + what);
      }
      if (p.exitValue() != 0) {
        throw new ForkyardException(
            ErrorCode.RUNTIME_UNAVAILABLE,
            "apt-get failed to "
                + what
                + " (exit "
                + p.exitValue()
                + "); is the Debian mirror reachable and `apt-get update` done?\n"
                + tail(out, 2000));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new ForkyardException(ErrorCode.INTERNAL, "interrupted while apt-get ran: " + what);
    }
  }

  static String tail(String s, int max) {
    return s.length() <= max ? s : "…" + s.substring(s.length() - max);
  }

  static String key(byte[] status, List<String> packages) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(status);
      md.update(String.join("\n", packages).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(md.digest()).substring(0, 24);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
