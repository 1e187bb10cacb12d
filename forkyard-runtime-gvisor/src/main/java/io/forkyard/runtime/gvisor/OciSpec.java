package io.forkyard.runtime.gvisor;

import io.forkyard.api.Resources;
import io.forkyard.core.spi.RuntimeSandbox;
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
   * Memory the sentry itself needs on top of what the sandbox's processes may use. The host cgroup
   * limit is the user's limit plus this, so that a process hitting its own limit fails alone
   * instead of the host OOM killer taking the whole sandbox.
   */
  static final long SENTRY_HEADROOM_MB = 96;

  static final long PIDS_LIMIT = 2048;
  static final long CPU_PERIOD_US = 100_000;

  /**
   * Init keeps the sandbox alive between commands and reaps orphaned processes (dash's wait reaps
   * any child). It writes the start marker first, so that exportChanges can find what changed since
   * boot. It ignores TERM so only KILL (destroy) ends it.
   */
  static List<String> initArgs() {
    return List.of(
        "/bin/sh",
        "-c",
        "mkdir -p "
            + MARKER_DIR
            + " && : > "
            + START_MARKER
            + "; trap '' TERM INT HUP; while :; do /bin/sleep infinity & wait; done");
  }

  static long cgroupMemoryBytes(Resources r) {
    return (r.memoryMb() + SENTRY_HEADROOM_MB) * 1024L * 1024L;
  }

  /** Per-process address-space limit applied by the exec wrapper (KiB, as ulimit -v wants). */
  static long processAddressSpaceKib(Resources r) {
    return r.memoryMb() * 1024L;
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
    process.put("args", initArgs());
    process.put("env", envList(sb.env(), Map.of()));
    process.put("cwd", "/");
    process.put("capabilities", caps(CAPABILITIES));
    process.put(
        "rlimits", List.of(Map.of("type", "RLIMIT_NOFILE", "hard", 1048576, "soft", 1048576)));
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
   * Process spec for {@code runsc exec --process}. The command runs under a tiny sh wrapper that
   * applies the per-process memory limit (runsc exec ignores rlimits in the process spec) and then
   * execs the user's argv unchanged: arguments travel as argv, never through a shell string.
   */
  static Map<String, Object> execProcess(
      List<String> argv, List<String> env, String cwd, long addressSpaceKib) {
    List<String> args = new ArrayList<>(argv.size() + 4);
    args.add("/bin/sh");
    args.add("-c");
    args.add("ulimit -v " + addressSpaceKib + " 2>/dev/null; exec \"$@\"");
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

  private OciSpec() {}
}
