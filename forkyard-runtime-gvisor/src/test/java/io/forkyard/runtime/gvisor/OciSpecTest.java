package io.forkyard.runtime.gvisor;

import static org.assertj.core.api.Assertions.assertThat;

import io.forkyard.api.NetworkPolicy;
import io.forkyard.api.Resources;
import io.forkyard.api.SandboxId;
import io.forkyard.core.spi.RuntimeSandbox;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The limits written into the OCI bundle; their effect is tested on real gVisor. */
class OciSpecTest {

  private static RuntimeSandbox sandbox(Resources r) {
    return new RuntimeSandbox(
        SandboxId.random(),
        Path.of("/tmp/x"),
        Path.of("/rootfs"),
        r,
        NetworkPolicy.NONE,
        "h",
        Map.of());
  }

  @SuppressWarnings("unchecked")
  private static <T> T at(Map<String, Object> m, String... path) {
    Object o = m;
    for (String p : path) {
      o = ((Map<String, Object>) o).get(p);
    }
    return (T) o;
  }

  @Test
  void hostCgroupsGetTheLimitsPlusGvisorsHeadroom() {
    Map<String, Object> c = OciSpec.config(sandbox(new Resources(2, 300, 1024)), Optional.empty());
    assertThat((Long) at(c, "linux", "resources", "memory", "limit"))
        .isEqualTo((300L + OciSpec.SENTRY_HEADROOM_MB) << 20);
    assertThat((Long) at(c, "linux", "resources", "cpu", "quota"))
        .isEqualTo(2 * OciSpec.CPU_PERIOD_US);
    assertThat((Long) at(c, "linux", "resources", "pids", "limit"))
        .isEqualTo(OciSpec.PIDS_LIMIT)
        .isGreaterThanOrEqualTo(16 * OciSpec.PROCESS_LIMIT);
  }

  @Test
  void everyProcessGetsTheSandboxRlimits() {
    Map<String, Object> c = OciSpec.config(sandbox(new Resources(1, 300, 100)), Optional.empty());
    List<Map<String, Object>> rl = at(c, "process", "rlimits");
    assertThat(rl)
        .contains(
            Map.of("type", "RLIMIT_AS", "hard", 300L << 20, "soft", 300L << 20),
            Map.of("type", "RLIMIT_FSIZE", "hard", 100L << 20, "soft", 100L << 20),
            Map.of(
                "type",
                "RLIMIT_NPROC",
                "hard",
                OciSpec.PROCESS_LIMIT,
                "soft",
                OciSpec.PROCESS_LIMIT));
  }

  @Test
  void initIsTheMemoryGuardWhereBashExistsAndAShellLoopElsewhere() {
    List<String> init = OciSpec.initArgs(new Resources(1, 300, 1024), 1_796_000_000L);
    assertThat(init.get(2))
        .contains("exec /bin/bash")
        .contains(OciSpec.START_MARKER)
        .contains("touch -d @1796000000 " + OciSpec.START_MARKER)
        .contains("/bin/sleep infinity");
    assertThat(init.get(4)).contains("kill_largest").contains("/proc/meminfo");
    assertThat(init.get(5)).isEqualTo(String.valueOf(300 * 1024));
  }

  @Test
  void execRunsTheCommandInAChildSoItsUlimitStaysItsOwn() {
    Map<String, Object> p = OciSpec.execProcess(List.of("echo", "a b"), List.of("PATH=/bin"), "/");
    List<String> args = at(p, "args");
    assertThat(args.get(2)).startsWith("(exec \"$@\"); rc=$?;");
    assertThat(args.subList(3, args.size())).containsExactly("forkyard-exec", "echo", "a b");
  }
}
