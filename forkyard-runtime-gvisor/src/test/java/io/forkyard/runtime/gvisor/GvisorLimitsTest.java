package io.forkyard.runtime.gvisor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.forkyard.api.Command;
import io.forkyard.api.NetworkPolicy;
import io.forkyard.api.Resources;
import io.forkyard.core.spi.ExecResult;
import io.forkyard.core.spi.RuntimeSandbox;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Limits the runtime enforces through the host cgroups and the sandbox's rlimits, each exceeded on
 * purpose. Memory is exceeded end to end in forkyard-tests' ResourceLimitsIT.
 */
@Tag("integration")
class GvisorLimitsTest extends GvisorHarness {

  private static final Path CGROUPS = Path.of("/sys/fs/cgroup");

  private RuntimeSandbox started(Resources resources) {
    RuntimeSandbox sb = sandbox(resources, NetworkPolicy.NONE);
    runtime.start(sb);
    return sb;
  }

  private static long read(Path file) throws Exception {
    return Long.parseLong(Files.readString(file).strip());
  }

  /**
   * Two busy loops in a 1-CPU sandbox on a 2-core host: the CFS quota holds the whole sandbox
   * (sentry, stubs, gofer) to one core. The bound is generous; it fails only when no quota acts.
   */
  @Test
  void twoBusyLoopsCannotUseMoreThanOneCpu() throws Exception {
    RuntimeSandbox sb = started(new Resources(1, 256, 1024));
    Path cg = CGROUPS.resolve("cpuacct" + OciSpec.cgroupsPath(sb));
    assertThat(read(CGROUPS.resolve("cpu" + OciSpec.cgroupsPath(sb)).resolve("cpu.cfs_quota_us")))
        .isEqualTo(OciSpec.CPU_PERIOD_US);
    sh(sb, "for i in 1 2; do timeout 8 sh -c 'while :; do :; done' >/dev/null 2>&1 & done; true");
    Thread.sleep(1_000);
    long usage0 = read(cg.resolve("cpuacct.usage"));
    long t0 = System.nanoTime();
    Thread.sleep(3_000);
    long usage1 = read(cg.resolve("cpuacct.usage"));
    long t1 = System.nanoTime();
    double cores = (double) (usage1 - usage0) / (t1 - t0);
    assertThat(cores)
        .as("CPU cores used by a cpus=1 sandbox running two busy loops")
        .isGreaterThan(0.05) // the loops ran, and this is the sandbox's cgroup
        .isLessThanOrEqualTo(1.3);
  }

  /**
   * A fork bomb: forks fail with EAGAIN at the process limit and the sandbox lives; the bomb can
   * still be killed although no new process may start, because forkyard's kill helper (the same
   * path kills a command at its timeout) runs with CAP_SYS_RESOURCE. Before the limit, ~190
   * processes used up the host pids cgroup (every sandbox process costs a ptrace stub of a dozen
   * host tasks) and runsc killed the whole sandbox.
   */
  @Test
  void forkBombIsHeldAtTheProcessLimitAndCanBeKilled() throws Exception {
    RuntimeSandbox sb = started(new Resources(1, 1024, 1024));
    // bash retries a fork that failed, so the table stays full; it stays in the command's group
    String group =
        sh(sb, "bash -c 'while :; do sleep 600 & done' >/dev/null 2>&1 & echo $PPID").strip();
    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> run(sb, Command.of("true")).exitCode() != 0);
    assertThat(runtime.isAlive(sb)).isTrue();
    Path pids = CGROUPS.resolve("pids" + OciSpec.cgroupsPath(sb));
    assertThat(read(pids.resolve("pids.current"))).isLessThan(OciSpec.PIDS_LIMIT);
    assertThat(Files.readString(pids.resolve("pids.events")).strip()).isEqualTo("max 0");

    runtime.killProcessGroup(sb, Integer.parseInt(group));
    // killing a few hundred processes under ptrace takes seconds
    await().atMost(Duration.ofSeconds(60)).until(() -> processCount(sb) < 10);
    assertThat(sh(sb, "echo alive")).isEqualTo("alive\n");
  }

  private int processCount(RuntimeSandbox sb) {
    ExecResult r =
        run(sb, Command.shell("n=0; for d in /proc/[0-9]*; do n=$((n+1)); done; echo $n"));
    return r.exitCode() == 0 ? Integer.parseInt(stdout(r).strip()) : Integer.MAX_VALUE;
  }

  /**
   * runsc gives every exec'd process one shared rlimit set: a command's own ulimit used to change
   * the limits of all later commands (and could not be undone without CAP_SYS_RESOURCE).
   */
  @Test
  void aCommandsUlimitStaysWithThatCommand() {
    RuntimeSandbox sb = started(new Resources(1, 256, 128));
    assertThat(sh(sb, "ulimit -v 100000; ulimit -p 10; ulimit -n 64; ulimit -f 8; echo lowered"))
        .isEqualTo("lowered\n");
    assertThat(sh(sb, "ulimit -v; ulimit -p; ulimit -n; ulimit -f"))
        .isEqualTo(
            256 * 1024
                + "\n"
                + OciSpec.PROCESS_LIMIT
                + "\n1048576\n"
                // dash counts file size in 512-byte blocks; min(memoryMb, diskMb) = 128 MiB
                + 128 * 2048
                + "\n");
  }
}
