package io.forkyard.runtime.gvisor;

import io.forkyard.api.Resources;
import io.forkyard.core.spi.RuntimeSandbox;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Builds the OCI runtime spec (config.json) and the per-exec process specs for runsc. */
final class OciSpec {
  static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  /** Inside the sandbox, outside the user's usual view; its mtime marks the sandbox's start. */
  static final String MARKER_DIR = "/run/forkyard";

  static final String START_MARKER = MARKER_DIR + "/started";

  /**
   * Docker's default capability set. CAP_SYS_ADMIN is left out and granted only to the exec that
   * sets the hostname after a restore.
   */
  static final List<String> CAPABILITIES =
      List.of(
          "CAP_CHOWN",
          "CAP_DAC_OVERRIDE",
          "CAP_FOWNER",
          "CAP_FSETID",
          "CAP_KILL",
          "CAP_SETGID",
          "CAP_SETUID",
          "CAP_SETPCAP",
          "CAP_NET_BIND_SERVICE",
          "CAP_NET_RAW",
          "CAP_SYS_CHROOT",
          "CAP_MKNOD",
          "CAP_AUDIT_WRITE",
          "CAP_SETFCAP");

  /**
   * Memory the sentry itself needs on top of what the sandbox's processes and files may use. The
   * host cgroup limit is the user's limit plus this; inside, the init's memory guard and the
   * per-process address-space limit act at the user's limit, before the host does (the host kills
   * the whole sandbox, see sandbox-init.bash).
   */
  static final long SENTRY_HEADROOM_MB = 96;

  /**
   * Tasks (processes and threads) one user may have in a sandbox: RLIMIT_NPROC, which gVisor counts
   * per uid for the whole sandbox. A fork past it fails with EAGAIN and the sandbox lives.
   */
  static final long PROCESS_LIMIT = 256;

  /**
   * Host tasks of one sandbox (pids cgroup). On the ptrace platform every sandbox process has a
   * host stub process with one thread per sentry OS thread that ran it, and stubs are pooled, not
   * freed. Hitting this limit kills the whole sandbox, so it must stay well above what {@link
   * #PROCESS_LIMIT} processes need: measured 10 to 16 host tasks per process in a fork bomb (2511
   * to 4045 host tasks at 256 processes; 2048 and 4096 were both hit), and about 40 for an idle
   * sandbox.
   */
  static final long PIDS_LIMIT = 32 * PROCESS_LIMIT;

  static final long CPU_PERIOD_US = 100_000;

  /** Where the memory guard leaves a note for the command whose process it killed. */
  static final String OOM_DIR = MARKER_DIR + "/oom";

  private static final String INIT_BASH = loadInitScript();

  /**
   * Init keeps the sandbox alive between commands and reaps orphaned processes. It writes the start
   * marker first, so that exportChanges can find what changed since boot, dated {@code
   * markerEpochSecs} (host time before runsc run, minus a second): init may run only after the
   * first command has already written files, and a marker dated when init got to it would hide
   * them. It ignores TERM so only KILL (destroy) ends it. Where the image has bash, init is
   * sandbox-init.bash, which also kills the largest process when the sandbox passes its memory
   * limit; otherwise a plain sh loop (dash's wait reaps any child).
   */
  static List<String> initArgs(Resources r, long markerEpochSecs) {
    return List.of(
        "/bin/sh",
        "-c",
        "mkdir -p "
            + OOM_DIR
            + " && : > "
            + START_MARKER
            + " && touch -d @"
            + markerEpochSecs
            + " "
            + START_MARKER
            + " 2>/dev/null; if [ -x /bin/bash ]; then exec /bin/bash -c \"$1\" forkyard-init \"$2\"; fi"
            + "; trap '' TERM INT HUP; while :; do /bin/sleep infinity & wait; done",
        "forkyard-init",
        INIT_BASH,
        String.valueOf(memoryLimitKib(r)));
  }

  /** The sandbox's memory limit as the guard compares it with gVisor's MemTotal - MemFree. */
  static long memoryLimitKib(Resources r) {
    return r.memoryMb() * 1024L;
  }

  static long cgroupMemoryBytes(Resources r) {
    return (r.memoryMb() + SENTRY_HEADROOM_MB) * 1024L * 1024L;
  }

  /**
   * Limits of every process the sandbox starts, as OCI rlimits. runsc exec gives each exec'd
   * process the root spec's rlimits, re-applied on every exec (runsc exec ignores the exec's own),
   * so that is the one place to set them:
   *
   * <ul>
   *   <li>RLIMIT_AS = memoryMb: one process cannot take more than the whole sandbox may; it gets
   *       ENOMEM (MemoryError) and the sandbox lives. gVisor applies RLIMIT_DATA only to brk, so
   *       the address space is the limit that works (programs reserving much more virtual memory
   *       than they use need a larger memoryMb).
   *   <li>RLIMIT_FSIZE = min(memoryMb, diskMb): the sandbox's files live in its memory, so one file
   *       larger than that would take the sandbox down; the write fails with EFBIG instead.
   *   <li>RLIMIT_NPROC = {@link #PROCESS_LIMIT}: fork fails with EAGAIN before the host pids limit
   *       would kill the sandbox.
   * </ul>
   */
  static List<Map<String, Object>> rlimits(Resources r) {
    long as = r.memoryMb() * 1024L * 1024L;
    long fsize = Math.min(r.memoryMb(), r.diskMb()) * 1024L * 1024L;
    return List.of(
        rlimit("RLIMIT_NOFILE", 1048576),
        rlimit("RLIMIT_AS", as),
        rlimit("RLIMIT_FSIZE", fsize),
        rlimit("RLIMIT_NPROC", PROCESS_LIMIT));
  }

  private static Map<String, Object> rlimit(String type, long value) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("type", type);
    m.put("hard", value);
    m.put("soft", value);
    return m;
  }

  static List<String> envList(Map<String, String> base, Map<String, String> extra) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("PATH", DEFAULT_PATH);
    env.put("HOME", "/root");
    env.put("LANG", "C.UTF-8");
    env.putAll(base);
    env.putAll(extra);
    List<String> out = new ArrayList<>(env.size());
    env.forEach((k, v) -> out.add(k + "=" + v));
    return out;
  }

  /**
   * config.json for a sandbox. The root is the read-only image; runsc's memory overlay keeps the
   * sandbox's writes in sandbox memory (so they are part of a memory checkpoint), which needs the
   * OCI root to be declared writable: with readonly=true runsc skips the overlay.
   *
   * @param netnsPath network namespace to join, for sandboxes with internet access
   */
  static Map<String, Object> config(RuntimeSandbox sb, Optional<String> netnsPath) {
    Map<String, Object> process = new LinkedHashMap<>();
    process.put("terminal", false);
    process.put("user", Map.of("uid", 0, "gid", 0));
    process.put("args", initArgs(sb.resources(), Instant.now().getEpochSecond() - 1));
    process.put("env", envList(sb.env(), Map.of()));
    process.put("cwd", "/");
    process.put("capabilities", caps(CAPABILITIES));
    process.put("rlimits", rlimits(sb.resources()));
    process.put("noNewPrivileges", false);

    List<Map<String, Object>> mounts = new ArrayList<>();
    mounts.add(mount("/proc", "proc", "proc", List.of()));
    mounts.add(mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755")));
    mounts.add(mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro")));

    List<Map<String, Object>> namespaces = new ArrayList<>();
    namespaces.add(Map.of("type", "pid"));
    namespaces.add(Map.of("type", "ipc"));
    namespaces.add(Map.of("type", "uts"));
    namespaces.add(Map.of("type", "mount"));
    if (netnsPath.isPresent()) {
      namespaces.add(Map.of("type", "network", "path", netnsPath.get()));
    } else {
      namespaces.add(Map.of("type", "network"));
    }

    Resources r = sb.resources();
    Map<String, Object> resources = new LinkedHashMap<>();
    resources.put("memory", Map.of("limit", cgroupMemoryBytes(r)));
    resources.put("cpu", Map.of("quota", r.cpus() * CPU_PERIOD_US, "period", CPU_PERIOD_US));
    resources.put("pids", Map.of("limit", PIDS_LIMIT));

    Map<String, Object> linux = new LinkedHashMap<>();
    linux.put("namespaces", namespaces);
    linux.put("resources", resources);
    linux.put("cgroupsPath", cgroupsPath(sb));

    Map<String, Object> root = new LinkedHashMap<>();
    root.put("path", sb.rootfs().toAbsolutePath().toString());
    root.put("readonly", false);

    Map<String, Object> config = new LinkedHashMap<>();
    config.put("ociVersion", "1.0.2");
    config.put("process", process);
    config.put("root", root);
    config.put("hostname", sb.hostname());
    config.put("mounts", mounts);
    config.put("linux", linux);
    return config;
  }

  /** cgroup v1 path (cgroupfs driver); carries the sandbox id so orphans can be found. */
  static String cgroupsPath(RuntimeSandbox sb) {
    return cgroupsPath(sb.id());
  }

  static String cgroupsPath(io.forkyard.api.SandboxId id) {
    return "/forkyard/" + id.value();
  }

  /**
   * Process spec for {@code runsc exec --process}. The user's argv runs unchanged (arguments travel
   * as argv, never through a shell string) in a child of a tiny sh wrapper, for two reasons:
   *
   * <ul>
   *   <li>runsc 2022 gives every exec'd process (and init) one shared rlimit set, so a command that
   *       ran {@code ulimit} itself would change the limits of every other command, running or
   *       later. A forked child has its own copy; the wrapper never changes its limits.
   *   <li>When the memory guard killed a process of this command (its process group, which the
   *       wrapper leads), the wrapper prints the guard's note on stderr so the user sees why.
   * </ul>
   */
  static Map<String, Object> execProcess(List<String> argv, List<String> env, String cwd) {
    List<String> args = new ArrayList<>(argv.size() + 4);
    args.add("/bin/sh");
    args.add("-c");
    args.add(
        "(exec \"$@\"); rc=$?; n="
            + OOM_DIR
            + "/$$; if [ -e $n ]; then cat $n >&2; rm -f $n; fi; exit $rc");
    args.add("forkyard-exec");
    args.addAll(argv);
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("terminal", false);
    p.put("user", Map.of("uid", 0, "gid", 0));
    p.put("args", args);
    p.put("env", env);
    p.put("cwd", cwd);
    p.put("capabilities", caps(CAPABILITIES));
    return p;
  }

  private static Map<String, Object> caps(List<String> caps) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("bounding", caps);
    c.put("effective", caps);
    c.put("permitted", caps);
    return c;
  }

  private static Map<String, Object> mount(
      String destination, String type, String source, List<String> options) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("destination", destination);
    m.put("type", type);
    m.put("source", source);
    if (!options.isEmpty()) {
      m.put("options", options);
    }
    return m;
  }

  private static String loadInitScript() {
    try (InputStream in = OciSpec.class.getResourceAsStream("sandbox-init.bash")) {
      if (in == null) {
        throw new IllegalStateException("sandbox-init.bash is missing from the gvisor runtime jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private OciSpec() {}
}
