package io.forkyard.runtime.gvisor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkyard.api.SandboxId;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * runsc's on-disk record of one container ({@code <id>_sandbox:<id>.state} in the runsc root), read
 * directly so that releasing a container does not wait for runsc.
 *
 * <p>Why: {@code runsc delete} waits until the killed sandbox process has been reaped. The sandbox
 * is re-parented to PID 1, and where PID 1 reaps lazily (as on these build machines, ~1.5-2 s)
 * every delete costs that long. A container whose processes are dead or zombies can be released by
 * removing its state files and cgroups, which is all runsc delete does then.
 */
final class ContainerState {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");

  private final Path root;
  private final SandboxId id;

  ContainerState(Path root, SandboxId id) {
    this.root = root;
    this.id = id;
  }

  Path stateFile() {
    return root.resolve(id.value() + "_sandbox:" + id.value() + ".state");
  }

  Path lockFile() {
    return root.resolve(id.value() + "_sandbox:" + id.value() + ".lock");
  }

  boolean exists() {
    return Files.exists(stateFile());
  }

  /** The container status runsc recorded ("running", "stopped", ...); empty when unreadable. */
  String status() {
    try {
      return JSON.readTree(stateFile().toFile()).path("status").asText("");
    } catch (IOException e) {
      return "";
    }
  }

  /** Host pids of the sandbox and gofer processes recorded by runsc. */
  List<Long> pids() {
    List<Long> pids = new ArrayList<>();
    try {
      JsonNode node = JSON.readTree(stateFile().toFile());
      long sandbox = node.path("sandbox").path("pid").asLong(0);
      long gofer = node.path("goferPid").asLong(0);
      if (sandbox > 0) {
        pids.add(sandbox);
      }
      if (gofer > 0) {
        pids.add(gofer);
      }
    } catch (IOException e) {
      // unreadable: treat as no processes; the caller falls back to runsc delete
    }
    return pids;
  }

  /** Whether a recorded pid is still a live (non-zombie) runsc process of this sandbox. */
  boolean isLive(long pid) {
    Path proc = Path.of("/proc", Long.toString(pid));
    try {
      String stat = Files.readString(proc.resolve("stat"));
      int close = stat.lastIndexOf(')');
      char state = close > 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : '?';
      if (state == 'Z' || state == 'X') {
        return false;
      }
      String cmdline = Files.readString(proc.resolve("cmdline"));
      return cmdline.contains(root.toString());
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Kills the recorded processes and removes the container's state and cgroups. Returns false when
   * something is still there; the caller then uses runsc delete.
   */
  boolean release(long waitMillis) throws InterruptedException {
    List<Long> pids = pids();
    for (long pid : pids) {
      if (isLive(pid)) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
    long deadline = System.nanoTime() + waitMillis * 1_000_000;
    while (pids.stream().anyMatch(this::isLive)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(5);
    }
    if (!removeCgroups(deadline)) {
      return false;
    }
    try {
      Files.deleteIfExists(stateFile());
      Files.deleteIfExists(lockFile());
    } catch (IOException e) {
      return false;
    }
    return true;
  }

  /** Removes {@code /sys/fs/cgroup/<controller>/<cgroupsPath>} for every v1 controller. */
  boolean removeCgroups(long deadlineNanos) throws InterruptedException {
    return removeCgroups(OciSpec.cgroupsPath(id), deadlineNanos);
  }

  static boolean removeCgroups(String cgroupsPath, long deadlineNanos) throws InterruptedException {
    String rel = cgroupsPath.startsWith("/") ? cgroupsPath.substring(1) : cgroupsPath;
    List<Path> dirs = new ArrayList<>();
    try (DirectoryStream<Path> controllers = Files.newDirectoryStream(CGROUP_ROOT)) {
      for (Path c : controllers) {
        Path dir = c.resolve(rel);
        if (Files.isDirectory(dir)) {
          dirs.add(dir);
        }
      }
    } catch (IOException e) {
      return true;
    }
    for (Path dir : dirs) {
      while (true) {
        try {
          Files.deleteIfExists(dir);
          break;
        } catch (IOException busy) {
          // EBUSY while exiting tasks still count; they go within milliseconds
          if (System.nanoTime() > deadlineNanos) {
            return false;
          }
          Thread.sleep(5);
        }
      }
    }
    return true;
  }

  Optional<String> describe() {
    return exists() ? Optional.of(stateFile().toString()) : Optional.empty();
  }
}
