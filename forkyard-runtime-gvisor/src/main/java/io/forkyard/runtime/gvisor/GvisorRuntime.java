package io.forkyard.runtime.gvisor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkyard.api.Command;
import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.OutputSink;
import io.forkyard.api.RuntimeUnavailableException;
import io.forkyard.api.SandboxId;
import io.forkyard.core.spi.Capability;
import io.forkyard.core.spi.ExecResult;
import io.forkyard.core.spi.RuntimeSandbox;
import io.forkyard.core.spi.SandboxRuntime;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sandboxes as gVisor containers driven through the runsc CLI.
 *
 * <p>Each sandbox is one runsc container whose id is the sandbox id, under this runtime's own runsc
 * root ({@code <stateDir>/runsc}). The root filesystem is the read-only image with runsc's memory
 * overlay on top, so a sandbox's writes live in sandbox memory and travel with a memory checkpoint.
 * A long-lived init keeps the sandbox up; commands run through {@code runsc exec}.
 */
public final class GvisorRuntime implements SandboxRuntime {
  private static final Logger LOG = LoggerFactory.getLogger(GvisorRuntime.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  static final String NAME = "gvisor";

  private static final long SHORT_CALL_MS = 30_000;
  private static final long BOOT_MS = 60_000;
  private static final long CHECKPOINT_MS = 10 * 60_000;

  /** Older than a boot can take: a network without its container for this long is a leftover. */
  private static final Duration LEAKED_NETWORK_AGE = Duration.ofMillis(2 * BOOT_MS);

  /**
   * How long a command's output may stay open after it exits (background children keep it open;
   * only they pay this wait). On a busy host the output a command wrote before exiting reaches our
   * reader hundreds of milliseconds after runsc exec returns (measured up to 0.54 s with 50
   * concurrent clients on 2 cores): a shorter grace silently drops it (exit 0, empty stdout).
   */
  private static final long OUTPUT_GRACE_MS = 2_000;

  private static final File DEV_NULL = new File("/dev/null");
  private static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");

  private final AtomicLong execSeq = new AtomicLong();
  private volatile Path stateDir;
  private volatile Runsc runsc;
  private volatile String version;
  private volatile Networks networks;
  private final Set<SandboxId> checkpointed = ConcurrentHashMap.newKeySet();

  public GvisorRuntime() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void init(Path stateDir) {
    try {
      Path root = stateDir.resolve("runsc");
      Files.createDirectories(root);
      this.stateDir = stateDir;
      this.runsc = new Runsc(Runsc.locate().orElse(Path.of("runsc")), root);
      this.networks = new Networks(stateDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create runsc root under " + stateDir, e);
    }
  }

  @Override
  public void checkAvailable() {
    Optional<Path> binary = Runsc.locate();
    if (binary.isEmpty()) {
      throw new RuntimeUnavailableException(
          "runsc (gVisor) is not installed: run 'apt-get install runsc' as root"
              + " (the gvisor runtime also needs root to create sandboxes)");
    }
    if (!isRoot()) {
      throw new RuntimeUnavailableException(
          "the gvisor runtime needs root (runsc creates namespaces and cgroups):"
              + " run forkyard as root, e.g. with sudo");
    }
  }

  @Override
  public String version() {
    String v = version;
    if (v == null) {
      Runsc r = requireInit();
      Runsc.Result res = r.call(List.of(), "--version", List.of(), SHORT_CALL_MS);
      String text = res.stdout().strip();
      v = text.isEmpty() ? "runsc (unknown version)" : text.lines().findFirst().orElse(text);
      version = v;
    }
    return v;
  }

  /**
   * Internet access and allow/deny lists come from {@link Networks}: a namespace and veth pair per
   * sandbox, filtered by host iptables (docs/runtimes/gvisor.md).
   */
  @Override
  public Set<Capability> capabilities() {
    return EnumSet.of(
        Capability.MEMORY_CHECKPOINT,
        Capability.FILESYSTEM_CHECKPOINT,
        Capability.SUSPEND,
        Capability.INTERNET_ACCESS,
        Capability.NETWORK_FILTER);
  }

  @Override
  public void start(RuntimeSandbox sb) {
    Runsc r = requireInit();
    checkpointed.remove(sb.id());
    removeStale(sb.id());
    Optional<Networks.Lease> net = network(sb);
    Path bundle = writeBundle(sb, net);
    Runsc.Result res =
        r.boot(
            wrapper(net),
            bootFlags(sb),
            "run",
            List.of("--detach", "--bundle", bundle.toString(), sb.id().value()),
            sb.dir().resolve("runsc-run.log"),
            BOOT_MS);
    if (!res.ok()) {
      cleanupAfterFailedBoot(sb.id());
      throw new ForkyardException(
          ErrorCode.INTERNAL, "runsc run failed for " + sb.id() + ": " + res.message());
    }
    if (net.isPresent()) {
      fixResolvConf(sb);
    }
  }

  /**
   * The image's resolv.conf is the host's at build time; a sandbox with internet access needs name
   * servers it can reach now. Forks restored from memory keep their snapshot's file.
   */
  private void fixResolvConf(RuntimeSandbox sb) {
    String wanted = Resolv.sandboxResolvConf();
    String current;
    try {
      current = Files.readString(sb.rootfs().resolve("etc/resolv.conf"), StandardCharsets.UTF_8);
    } catch (IOException e) {
      current = "";
    }
    if (wanted.isEmpty() || Resolv.nameservers(current).equals(Resolv.nameservers(wanted))) {
      return;
    }
    Runsc.Result res =
        helperShell(
            sb,
            List.of(),
            "rm -f /etc/resolv.conf && printf %s \"$1\" > /etc/resolv.conf",
            "forkyard-resolv",
            wanted);
    if (!res.ok()) {
      LOG.warn("{}: cannot write /etc/resolv.conf: {}", sb.id(), res.message());
    }
  }

  /** A fresh namespace for a sandbox with internet access (one per boot or restore). */
  private Optional<Networks.Lease> network(RuntimeSandbox sb) {
    if (!sb.network().allowInternetAccess()) {
      return Optional.empty();
    }
    return Optional.of(networks.create(sb.id(), sb.network()));
  }

  private static List<String> wrapper(Optional<Networks.Lease> net) {
    return net.map(l -> Runsc.inNetns(l.nsPath())).orElse(List.of());
  }

  @Override
  public void checkpoint(RuntimeSandbox sb, Path imageDir) {
    Runsc r = requireInit();
    try {
      Files.createDirectories(imageDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create checkpoint directory " + imageDir, e);
    }
    // --leave-running hangs on this runsc; the caller restores the sandbox from the image instead.
    Runsc.Result res =
        r.call(
            List.of(),
            "checkpoint",
            List.of("--image-path", imageDir.toString(), sb.id().value()),
            CHECKPOINT_MS);
    if (!res.ok()) {
      throw new ForkyardException(
          ErrorCode.INTERNAL, "runsc checkpoint failed for " + sb.id() + ": " + res.message());
    }
    // runsc returns while the sandbox process is still exiting and its state file still says
    // running: remember that this one is stopped until it is started or restored again.
    checkpointed.add(sb.id());
  }

  @Override
  public void restore(RuntimeSandbox sb, Path imageDir) {
    Runsc r = requireInit();
    checkpointed.remove(sb.id());
    if (!Files.isRegularFile(imageDir.resolve("checkpoint.img"))) {
      throw new ForkyardException(
          ErrorCode.SNAPSHOT_CORRUPT, "no runsc checkpoint image in " + imageDir);
    }
    // The checkpointed container of the same id (suspend, or the base after a checkpoint) is
    // stopped but still registered; its id must be free before the restore.
    removeStale(sb.id());
    Optional<Networks.Lease> net = network(sb);
    Path bundle = writeBundle(sb, net);
    Runsc.Result res =
        r.boot(
            wrapper(net),
            bootFlags(sb),
            "restore",
            List.of(
                "--detach",
                "--image-path",
                imageDir.toString(),
                "--bundle",
                bundle.toString(),
                sb.id().value()),
            sb.dir().resolve("runsc-restore.log"),
            BOOT_MS);
    if (!res.ok()) {
      cleanupAfterFailedBoot(sb.id());
      throw new ForkyardException(
          ErrorCode.INTERNAL, "runsc restore failed for " + sb.id() + ": " + res.message());
    }
    setHostname(sb);
  }

  /** UTS state comes back from the image: every restored sandbox needs its own name set again. */
  private void setHostname(RuntimeSandbox sb) {
    Runsc.Result res =
        helperShell(
            sb,
            List.of("--cap", "CAP_SYS_ADMIN"),
            "hostname \"$1\" 2>/dev/null || printf %s \"$1\" > /proc/sys/kernel/hostname",
            "forkyard-hostname",
            sb.hostname());
    if (!res.ok()) {
      throw new ForkyardException(
          ErrorCode.INTERNAL,
          "restored " + sb.id() + " but could not set its hostname: " + res.message());
    }
  }

  /** A runtime chore inside the sandbox: {@code sh -c script name arg} through runsc exec. */
  private Runsc.Result helperShell(
      RuntimeSandbox sb, List<String> execFlags, String script, String name, String arg) {
    List<String> args = new ArrayList<>(execFlags);
    args.addAll(List.of(sb.id().value(), "/bin/sh", "-c", script, name, arg));
    return requireInit().call(List.of(), "exec", args, SHORT_CALL_MS);
  }

  @Override
  public void exportChanges(RuntimeSandbox sb, Path tarFile) {
    // changed since boot: modified or (for files copied with old times) status-changed after the
    // marker's date, which init sets to before the sandbox started (OciSpec.initArgs)
    String script =
        "cd / && T=$(stat -c %Y "
            + OciSpec.START_MARKER
            + ") && find . -xdev -mindepth 1"
            // the mount points (their own fs, not descended by -xdev) are newer than the marker
            + " \\( -path ./run/forkyard -o -path './run/forkyard/*' -o -path ./proc -o -path ./dev"
            + " -o -path ./sys -o -path ./tmp \\) -prune"
            + " -o \\( -newermt @$T -o -newerct @$T \\) -print0"
            + " | tar --null --no-recursion --numeric-owner -T - -cf -";
    List<String> cmd =
        requireInit().command(List.of(), "exec", List.of(sb.id().value(), "/bin/sh", "-c", script));
    Path tmp = tarFile.resolveSibling(tarFile.getFileName() + ".part");
    try {
      Process p =
          new ProcessBuilder(cmd)
              .redirectInput(DEV_NULL)
              .redirectError(ProcessBuilder.Redirect.PIPE)
              .start();
      var err = CommandRun.Collector.stderr(p.getErrorStream(), 64 * 1024, OutputSink.DISCARD);
      err.start();
      try (InputStream in = p.getInputStream()) {
        Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      }
      int rc = p.waitFor();
      err.await(OUTPUT_GRACE_MS);
      if (rc != 0) {
        throw new ForkyardException(
            ErrorCode.INTERNAL,
            "exporting the changed files of "
                + sb.id()
                + " failed (exit "
                + rc
                + "): "
                + new String(err.bytes(), StandardCharsets.UTF_8).strip());
      }
      Files.move(tmp, tarFile, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot export changes of " + sb.id(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ForkyardException(ErrorCode.INTERNAL, "interrupted exporting " + sb.id(), e);
    } finally {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // best effort
      }
    }
  }

  @Override
  public ExecResult exec(RuntimeSandbox sb, Command command, OutputSink sink, long maxOutputBytes) {
    Runsc r = requireInit();
    long seq = execSeq.incrementAndGet();
    Path execDir = sb.dir().resolve("exec");
    Path processJson = execDir.resolve(seq + ".json");
    Path pidFile = execDir.resolve(seq + ".pid");
    long startNanos = System.nanoTime();
    try {
      Files.createDirectories(execDir);
      Map<String, Object> process =
          OciSpec.execProcess(
              command.argv(), OciSpec.envList(sb.env(), command.env()), command.cwd());
      JSON.writeValue(processJson.toFile(), process);
      List<String> cmd =
          r.command(
              List.of(),
              "exec",
              List.of(
                  "--process",
                  processJson.toString(),
                  "--internal-pid-file",
                  pidFile.toString(),
                  sb.id().value()));
      Process p = new ProcessBuilder(cmd).start();
      CommandRun.Collector out =
          CommandRun.Collector.stdout(p.getInputStream(), maxOutputBytes, sink).start();
      CommandRun.Collector err =
          CommandRun.Collector.stderr(p.getErrorStream(), maxOutputBytes, sink).start();
      OutputStream stdin = p.getOutputStream();
      CommandRun.feed(stdin, command.stdin(), n -> {});

      boolean timedOut = false;
      Duration timeout = command.timeout();
      if (!p.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
        timedOut = true;
        killInSandbox(sb, pidFile);
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          p.waitFor(5, TimeUnit.SECONDS);
        }
      }
      int rc = p.exitValue();
      out.await(OUTPUT_GRACE_MS);
      err.await(OUTPUT_GRACE_MS);
      int exitCode = timedOut ? -9 : decodeExit(rc);
      return new ExecResult(
          exitCode,
          out.bytes(),
          err.bytes(),
          timedOut,
          out.truncated(),
          err.truncated(),
          Duration.ofNanos(System.nanoTime() - startNanos));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run a command in " + sb.id(), e);
    } catch (InterruptedException e) {
      killInSandbox(sb, pidFile);
      Thread.currentThread().interrupt();
      throw new ForkyardException(ErrorCode.INTERNAL, "interrupted running a command", e);
    } finally {
      deleteQuietly(processJson);
      deleteQuietly(pidFile);
    }
  }

  /**
   * runsc exec exits with the command's status, or 128+n when it was killed by signal n. The SPI
   * reports a signal as -n. (A command exiting with 129..159 on purpose is reported as a signal
   * too: runsc does not let us tell them apart.)
   */
  static int decodeExit(int rc) {
    if (rc > 128 && rc < 128 + 32) {
      return -(rc - 128);
    }
    return rc;
  }

  /**
   * Kills the command's whole process group inside the sandbox: killing only the runsc exec client
   * would leave the command running, and killing only the leader would leave its children.
   * Processes started by runsc exec lead their own process group.
   */
  private void killInSandbox(RuntimeSandbox sb, Path pidFile) {
    readPid(pidFile).ifPresent(pid -> killProcessGroup(sb, pid));
  }

  /** Kills process group {@code pid} in the sandbox, and process {@code pid} itself. */
  void killProcessGroup(RuntimeSandbox sb, int pid) {
    Runsc r = requireInit();
    Runsc.Result res =
        r.call(
            List.of(),
            "exec",
            List.of(
                // gVisor exempts CAP_SYS_RESOURCE from RLIMIT_NPROC: the kill must start even in a
                // sandbox whose command forked up to the process limit.
                "--cap",
                "CAP_SYS_RESOURCE",
                sb.id().value(),
                "/bin/sh",
                "-c",
                "kill -9 -\"$1\" 2>/dev/null; kill -9 \"$1\" 2>/dev/null; true",
                "forkyard-kill",
                String.valueOf(pid)),
            SHORT_CALL_MS);
    if (!res.ok()) {
      r.call(
          List.of(),
          "kill",
          List.of("--pid", String.valueOf(pid), sb.id().value(), "KILL"),
          SHORT_CALL_MS);
    }
  }

  private static Optional<Integer> readPid(Path pidFile) {
    try {
      String s = Files.readString(pidFile).strip();
      return s.isEmpty() ? Optional.empty() : Optional.of(Integer.parseInt(s));
    } catch (IOException | NumberFormatException e) {
      return Optional.empty();
    }
  }

  @Override
  public boolean isAlive(RuntimeSandbox sb) {
    // Read runsc's state file and /proc rather than run `runsc state` (a process, ~25 ms): the
    // service asks this for every running sandbox in its liveness sweep. The sandbox process (the
    // gVisor kernel) lives exactly as long as the sandbox: it exits when its init does. runsc
    // keeps a checkpointed container "running" in its state file while its process exits.
    ContainerState state = new ContainerState(requireInit().root(), sb.id());
    if (checkpointed.contains(sb.id()) || !state.exists() || !"running".equals(state.status())) {
      return false;
    }
    List<Long> pids = state.pids();
    if (pids.isEmpty()) {
      return "running".equals(status(sb.id()).orElse(""));
    }
    return state.isLive(pids.get(0));
  }

  /**
   * Reads the host cgroups' counters: gVisor cannot contain a sandbox as a whole, so when its
   * processes and files together pass the memory cgroup's limit, the host kills a ptrace stub and
   * runsc kills the whole sandbox; the pids cgroup likewise when it runs out of host tasks. With
   * neither, the sandbox's init was killed (or runsc died).
   */
  @Override
  public Optional<String> failureCause(SandboxId id) {
    Path memory = CGROUP_ROOT.resolve("memory" + OciSpec.cgroupsPath(id));
    long oomKills = counter(memory.resolve("memory.oom_control"), "oom_kill");
    if (oomKills > 0) {
      long limitMb = counter(memory.resolve("memory.limit_in_bytes"), "") / (1024 * 1024);
      return Optional.of(
          "out of memory: its processes and files together used more than its memoryMb plus "
              + OciSpec.SENTRY_HEADROOM_MB
              + " MiB for gVisor itself"
              + (limitMb > 0 ? " (" + limitMb + " MiB)" : "")
              + ", and the host killed it; files written in a sandbox live in its memory, so"
              + " they count too");
    }
    Path pids = CGROUP_ROOT.resolve("pids" + OciSpec.cgroupsPath(id));
    if (counter(pids.resolve("pids.events"), "max") > 0) {
      return Optional.of(
          "out of host tasks: it reached the host limit of "
              + OciSpec.PIDS_LIMIT
              + " tasks (each sandbox process costs about a dozen on gVisor's ptrace platform),"
              + " and gVisor stopped");
    }
    // gVisor 2022 does not shield a PID namespace's init from its members' signals (a TODO in
    // kernel/task_signals.go), so `kill -9 1` inside ends the sandbox.
    return Optional.of(
        "no limit was hit: its init process (PID 1) was killed, e.g. by `kill -9 1` inside the"
            + " sandbox, which gVisor allows, or gVisor itself stopped");
  }

  /** The number after {@code key} in a cgroup file of "key value" lines (or the whole file). */
  private static long counter(Path file, String key) {
    try {
      for (String line : Files.readAllLines(file)) {
        String[] f = line.trim().split("\\s+");
        try {
          if (key.isEmpty() && f.length == 1) {
            return Long.parseLong(f[0]);
          }
          if (f.length == 2 && f[0].equals(key)) {
            return Long.parseLong(f[1]);
          }
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    } catch (IOException e) {
      // no such cgroup (already removed, or another cgroup layout): nothing to tell
    }
    return 0;
  }

  private Optional<String> status(SandboxId id) {
    Runsc.Result res = requireInit().call(List.of(), "state", List.of(id.value()), SHORT_CALL_MS);
    if (!res.ok()) {
      return Optional.empty();
    }
    try {
      JsonNode node = JSON.readTree(res.stdout());
      return Optional.ofNullable(node.path("status").asText(null));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  @Override
  public void destroy(SandboxId id) {
    release(id);
    networks.remove(id);
    checkpointed.remove(id);
  }

  @Override
  public Set<SandboxId> liveSandboxes() {
    Runsc.Result res =
        requireInit().call(List.of(), "list", List.of("--format", "json"), SHORT_CALL_MS);
    Set<SandboxId> ids = new HashSet<>();
    if (res.ok()) {
      try {
        JsonNode node = JSON.readTree(res.stdout());
        if (node != null && node.isArray()) {
          for (JsonNode c : node) {
            String id = c.path("id").asText("");
            if (id.matches("sb-[0-9a-f]{12}")) {
              ids.add(SandboxId.of(id));
            }
          }
        }
        // a network no container uses any more is what a crashed process left behind
        networks.reapLeaked(ids, LEAKED_NETWORK_AGE);
      } catch (IOException e) {
        LOG.warn("cannot parse runsc list output: {}", e.toString());
      }
    }
    return ids;
  }

  private List<String> bootFlags(RuntimeSandbox sb) {
    List<String> flags = new ArrayList<>();
    flags.add("--platform=ptrace");
    flags.add("--overlay2=root:memory");
    flags.add("--cpu-num-from-quota");
    if (sb.network().allowInternetAccess()) {
      flags.add("--network=sandbox");
    } else {
      flags.add("--network=none");
    }
    return flags;
  }

  private Path writeBundle(RuntimeSandbox sb, Optional<Networks.Lease> net) {
    Optional<String> netns = net.map(l -> l.nsPath().toString());
    Path bundle = sb.dir().resolve("bundle");
    try {
      Files.createDirectories(bundle);
      Path tmp = bundle.resolve("config.json.tmp");
      JSON.writerWithDefaultPrettyPrinter().writeValue(tmp.toFile(), OciSpec.config(sb, netns));
      Files.move(tmp, bundle.resolve("config.json"), StandardCopyOption.REPLACE_EXISTING);
      return bundle;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the OCI bundle for " + sb.id(), e);
    }
  }

  /**
   * Kills and unregisters the container {@code id}, if runsc knows it. Tries the direct release
   * first (see {@link ContainerState}); falls back to runsc delete --force.
   */
  private void release(SandboxId id) {
    Runsc r = requireInit();
    ContainerState state = new ContainerState(r.root(), id);
    if (!state.exists()) {
      removeCgroupsQuietly(id);
      return;
    }
    try {
      if (state.release(3_000)) {
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Runsc.Result res = r.call(List.of(), "delete", List.of("--force", id.value()), SHORT_CALL_MS);
    if (!res.ok() && state.exists()) {
      throw new ForkyardException(
          ErrorCode.INTERNAL, "runsc delete failed for " + id + ": " + res.message());
    }
    removeCgroupsQuietly(id);
  }

  private static void removeCgroupsQuietly(SandboxId id) {
    try {
      ContainerState.removeCgroups(OciSpec.cgroupsPath(id), System.nanoTime() + 500_000_000L);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void removeStale(SandboxId id) {
    release(id);
  }

  private void cleanupAfterFailedBoot(SandboxId id) {
    try {
      destroy(id);
    } catch (RuntimeException e) {
      LOG.warn("cleanup after failed boot of {} failed: {}", id, e.toString());
    }
  }

  private Runsc requireInit() {
    Runsc r = runsc;
    if (r == null) {
      throw new IllegalStateException("GvisorRuntime.init(stateDir) was not called");
    }
    return r;
  }

  private static boolean isRoot() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          String[] f = line.split("\\s+");
          return f.length > 2 && f[2].equals("0");
        }
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException ignored) {
      // best effort: the sandbox dir is removed with the sandbox
    }
  }
}
