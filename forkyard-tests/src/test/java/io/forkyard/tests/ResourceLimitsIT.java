package io.forkyard.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.forkyard.api.Command;
import io.forkyard.api.CommandResult;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.InvalidStateException;
import io.forkyard.api.Resources;
import io.forkyard.api.Sandbox;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.SandboxState;
import io.forkyard.core.SandboxService;
import io.forkyard.testkit.RealService;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * memoryMb exceeded on purpose, on real gVisor, in each way a sandbox can exceed it: what fails,
 * and whether the sandbox lives. (cpus and the process limit: forkyard-runtime-gvisor's
 * GvisorLimitsTest.)
 */
@Tag("integration")
class ResourceLimitsIT {
  private RealService real;
  private SandboxService svc;

  @BeforeEach
  void open() throws Exception {
    real = RealService.start();
    svc = real.service;
  }

  @AfterEach
  void cleanUp() {
    if (real != null) {
      real.close();
    }
  }

  private Sandbox create(int memoryMb) {
    return svc.create(
        SandboxSpec.builder().resources(new Resources(1, memoryMb, 1024)).timeoutSecs(300).build());
  }

  private static void assertAlive(Sandbox sb) {
    assertThat(sb.info().state()).isEqualTo(SandboxState.RUNNING);
    assertThat(sb.run("echo", "alive").stdout()).isEqualTo("alive\n");
  }

  /** The per-process limit (RLIMIT_AS): the allocation fails inside the program. */
  @Test
  void oneProcessOverTheLimitFailsAloneAndTheSandboxLives() {
    Sandbox sb = create(256);
    CommandResult r = sb.run("python3", "-c", "b = bytearray(600 * 1024 * 1024)");
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.stderr()).contains("MemoryError");
    assertAlive(sb);
  }

  /**
   * Three processes, each under the limit, together over it: gVisor has no OOM killer, so
   * forkyard's init kills the largest process (and says so on the command's stderr) before the host
   * would kill the whole sandbox. They grow at ~150 MiB/s here; see docs/runtimes/gvisor.md for
   * faster bursts.
   */
  @Test
  void processesTogetherOverTheLimitLoseTheLargestAndTheSandboxLives() {
    Sandbox sb = create(256);
    String grow =
        "import time\n"
            + "b = []\n"
            + "for i in range(20):\n"
            + "    b.append(b'x' * (10 * 1024 * 1024)); time.sleep(0.2)\n"
            + "print('survived', flush=True)\n";
    sb.writeFile("/work/grow.py", grow);
    CommandResult r =
        sb.run(
            Command.shell("for i in 1 2 3; do python3 /work/grow.py & done; wait")
                .withTimeout(Duration.ofMinutes(2)));
    long survivors = r.stdout().lines().filter("survived"::equals).count();
    assertThat(survivors).as("stdout %s, stderr %s", r.stdout(), r.stderr()).isBetween(1L, 2L);
    assertThat(r.stderr())
        .contains("forkyard: killed process")
        .contains("more than its limit of 256 MiB (memoryMb)");
    assertAlive(sb);
  }

  /** Files live in sandbox memory: a single file may not grow past min(memoryMb, diskMb). */
  @Test
  void aFileLargerThanTheLimitIsRefusedAndTheSandboxLives() {
    Sandbox sb = create(256);
    CommandResult py =
        sb.run(
            "python3",
            "-c",
            "f = open('/root/big', 'wb')\n"
                + "try:\n"
                + "    for i in range(300):\n"
                + "        f.write(b'x' * (1024 * 1024))\n"
                + "except OSError as e:\n"
                + "    print(e.errno)\n");
    assertThat(py.stdout()).isEqualTo("27\n"); // EFBIG; python ignores SIGXFSZ
    assertThat(sb.run(Command.shell("wc -c < /root/big")).stdout().strip())
        .isEqualTo(String.valueOf(256 * 1024 * 1024));
    // the file stays: a second one as large would fill the memory (see the next test)
    sb.run("rm", "/root/big");
    CommandResult head = sb.run(Command.shell("head -c 300M /dev/zero > /root/big"));
    assertThat(head.exitCode()).isEqualTo(-25); // SIGXFSZ, as on Linux
    assertAlive(sb);
  }

  /**
   * The case nothing inside can stop: files that fit one by one but together fill the memory
   * (killing processes frees no file). The host cgroup kills the sandbox; the service marks it
   * FAILED and says why, and nothing of it is left running.
   */
  @Test
  void filesTogetherOverTheLimitKillTheSandboxWhichIsMarkedFailed() {
    Sandbox sb = create(128);
    CommandResult r =
        sb.run(
            Command.shell("for i in 1 2 3 4; do head -c 100M /dev/zero > /root/f$i || exit; done")
                .withTimeout(Duration.ofMinutes(2)));
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.stderr()).contains("[forkyard: the sandbox died").contains("out of memory");
    assertThat(sb.info().state()).isEqualTo(SandboxState.FAILED);
    assertThat(sb.info().message()).contains("out of memory").contains("files");
    assertThatThrownBy(() -> sb.run("true"))
        .isInstanceOf(InvalidStateException.class)
        .hasMessageContaining("FAILED");
    assertThat(svc.runtime().liveSandboxes()).doesNotContain(sb.id());
  }

  /** gVisor 2022 does not shield init from signals sent inside its PID namespace. */
  @Test
  void killingPid1EndsTheSandboxWhichIsMarkedFailedWithTheReason() {
    Sandbox sb = create(256);
    sb.run(Command.shell("kill -9 1")); // kill is a shell builtin here
    // The command may return before the sandbox is gone (then exit 0, and the liveness sweep
    // finds the death) or die with it (then the exec notices): FAILED with the reason either way.
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(30))
        .pollInterval(java.time.Duration.ofMillis(300))
        .until(() -> sb.info().state() == SandboxState.FAILED);
    assertThat(sb.info().message()).contains("PID 1");
  }

  @Test
  void rejectsNegativeAndAbsurdResources() {
    assertThatThrownBy(() -> new Resources(-1, 512, 1024))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("cpus");
    assertThatThrownBy(() -> new Resources(65, 512, 1024))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("cpus");
    assertThatThrownBy(() -> new Resources(1, -512, 1024))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("memoryMb");
    assertThatThrownBy(() -> new Resources(1, 16, 1024))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("memoryMb");
    assertThatThrownBy(() -> new Resources(1, Integer.MAX_VALUE, 1024))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("memoryMb");
    assertThatThrownBy(() -> new Resources(1, 512, -1))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("diskMb");
    assertThat(svc.list()).isEmpty();
  }
}
