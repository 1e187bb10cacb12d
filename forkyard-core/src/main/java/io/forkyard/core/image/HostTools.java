package io.forkyard.core.image;

import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/** Host programs the image code runs (debootstrap, apt-get, umount) and how it runs them. */
final class HostTools {
  private HostTools() {}

  /**
   * Finds a program on PATH, also looking in the sbin directories a non-login root shell's PATH
   * often lacks.
   */
  static Optional<Path> find(String program) {
    Set<String> dirs = new LinkedHashSet<>();
    String path = System.getenv("PATH");
    if (path != null) {
      dirs.addAll(List.of(path.split(File.pathSeparator)));
    }
    dirs.addAll(
        List.of("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"));
    for (String dir : dirs) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, program);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /** Effective uid 0, read from /proc so it works without extra JDK modules. */
  static boolean isRoot() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          String[] f = line.substring(4).trim().split("\\s+");
          return f.length > 1 && f[1].equals("0");
        }
      }
    } catch (IOException e) {
      // fall through: not Linux or no /proc; treat as not root so callers explain.
    }
    return false;
  }

  /** Exit code and the last lines of a finished process's merged output. */
  record Outcome(int exitCode, List<String> tail) {
    String tailText() {
      return String.join("\n", tail);
    }
  }

  /**
   * Runs a command with stdin from /dev/null and stdout+stderr merged, handing each output line to
   * {@code lines} as it arrives and keeping the last {@code tailLines}. Blocks until the process
   * ends; an interrupt kills it.
   */
  static Outcome run(
      List<String> command, Map<String, String> env, int tailLines, Consumer<String> lines) {
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.redirectErrorStream(true);
    pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().put("LC_ALL", "C");
    pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
    // debootstrap and apt call chroot, mknod, dpkg by name; a JVM started from a user shell
    // may lack the sbin directories.
    String path = pb.environment().getOrDefault("PATH", "");
    pb.environment()
        .put("PATH", path + (path.isEmpty() ? "" : ":") + "/usr/sbin:/usr/bin:/sbin:/bin");
    pb.environment().putAll(env);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new ForkyardException(
          ErrorCode.INTERNAL, "cannot start " + command.get(0) + ": " + e.getMessage(), e);
    }
    Deque<String> tail = new ArrayDeque<>();
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        lines.accept(line);
        tail.addLast(line);
        if (tail.size() > tailLines) {
          tail.removeFirst();
        }
      }
      return new Outcome(p.waitFor(), new ArrayList<>(tail));
    } catch (IOException e) {
      p.destroyForcibly();
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new ForkyardException(ErrorCode.INTERNAL, command.get(0) + " was interrupted", e);
    }
  }
}
