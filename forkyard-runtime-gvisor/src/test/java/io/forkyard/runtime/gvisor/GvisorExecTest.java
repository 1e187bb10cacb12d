package io.forkyard.runtime.gvisor;

import static org.assertj.core.api.Assertions.assertThat;

import io.forkyard.api.Command;
import io.forkyard.api.OutputSink;
import io.forkyard.core.spi.ExecResult;
import io.forkyard.core.spi.RuntimeSandbox;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("integration")
class GvisorExecTest extends GvisorHarness {

  @Test
  void startsAndRunsEcho() {
    RuntimeSandbox sb = started();
    ExecResult r = run(sb, Command.of("echo", "hello", "world"));
    assertThat(r.exitCode()).isZero();
    assertThat(stdout(r)).isEqualTo("hello world\n");
    assertThat(r.timedOut()).isFalse();
    assertThat(runtime.isAlive(sb)).isTrue();
    assertThat(runtime.liveSandboxes()).contains(sb.id());
    assertThat(sh(sb, "hostname")).isEqualTo(sb.hostname() + "\n");
  }

  @Test
  void passesEnvAndArgsUntouched() {
    RuntimeSandbox sb = started();
    String tricky = "a b \"c\" 'd' $HOME `x` \\ ; | * \n end";
    Command c =
        new Command(
            List.of("/usr/bin/printenv", "TRICKY"),
            Map.of("TRICKY", tricky),
            "/",
            Command.DEFAULT_TIMEOUT,
            new byte[0]);
    assertThat(stdout(run(sb, c))).isEqualTo(tricky + "\n");
    ExecResult args = run(sb, Command.of("/bin/sh", "-c", "printf '%s|' \"$@\"", "sh", tricky, ""));
    assertThat(stdout(args)).isEqualTo(tricky + "||");
    assertThat(sh(sb, "echo $FY_BASE")).isEqualTo("1\n");
  }

  @Test
  void honoursCwdAndStdin() {
    RuntimeSandbox sb = started();
    ExecResult pwd = run(sb, Command.of("pwd").withCwd("/etc"));
    assertThat(stdout(pwd)).isEqualTo("/etc\n");
    ExecResult cat = run(sb, Command.of("cat").withStdin("from stdin".getBytes()));
    assertThat(stdout(cat)).isEqualTo("from stdin");
  }

  @Test
  void reportsNonZeroExitAndStderr() {
    RuntimeSandbox sb = started();
    ExecResult r = run(sb, Command.shell("echo oops >&2; exit 7"));
    assertThat(r.exitCode()).isEqualTo(7);
    assertThat(stderr(r)).isEqualTo("oops\n");
    ExecResult missing = run(sb, Command.of("/no/such/program"));
    assertThat(missing.exitCode()).isNotZero();
  }

  @Test
  void reportsSignalAsNegativeExit() {
    RuntimeSandbox sb = started();
    ExecResult r = run(sb, Command.shell("kill -TERM $$"));
    assertThat(r.exitCode()).isEqualTo(-15);
  }

  @Test
  void killsCommandAndItsChildrenAtTimeout() {
    RuntimeSandbox sb = started();
    ExecResult r =
        run(
            sb,
            Command.shell("sleep 1000 & echo started; sleep 1001")
                .withTimeout(Duration.ofMillis(700)));
    assertThat(r.timedOut()).isTrue();
    assertThat(r.exitCode()).isEqualTo(-9);
    assertThat(stdout(r)).isEqualTo("started\n");
    String procs = sh(sb, "cat /proc/[0-9]*/cmdline | tr '\\0' ' '");
    assertThat(procs).doesNotContain("sleep 1000").doesNotContain("sleep 1001");
    assertThat(runtime.isAlive(sb)).isTrue();
  }

  @Test
  void capsLargeOutputButStreamsAll() {
    RuntimeSandbox sb = started();
    AtomicLong streamed = new AtomicLong();
    OutputSink counting =
        new OutputSink() {
          @Override
          public void stdout(byte[] chunk, int offset, int length) {
            streamed.addAndGet(length);
          }
        };
    ExecResult r =
        runtime.exec(
            sb, Command.shell("head -c 20000000 /dev/zero; echo done >&2"), counting, 100_000);
    assertThat(r.exitCode()).isZero();
    assertThat(r.stdout()).hasSize(100_000);
    assertThat(r.stdoutTruncated()).isTrue();
    assertThat(r.stderrTruncated()).isFalse();
    assertThat(stderr(r)).isEqualTo("done\n");
    assertThat(streamed.get()).isEqualTo(20_000_000L);
  }

  @Test
  void keepsBinaryOutputAsBytes() {
    RuntimeSandbox sb = started();
    ExecResult r = run(sb, Command.shell("printf '\\000\\001\\377\\200abc'"));
    assertThat(r.stdout()).containsExactly(0, 1, 0xff, 0x80, 'a', 'b', 'c');
  }

  @Test
  void neverWritesTheHostRootfs() throws Exception {
    RuntimeSandbox sb = started();
    sh(sb, "echo secret > /etc/forkyard-probe; mkdir -p /opt/x && echo y > /opt/x/y");
    assertThat(sh(sb, "cat /etc/forkyard-probe")).isEqualTo("secret\n");
    assertThat(rootfs.resolve("etc/forkyard-probe")).doesNotExist();
    assertThat(rootfs.resolve("opt/x")).doesNotExist();
  }

  @Test
  void hasNoNetworkByDefault() {
    RuntimeSandbox sb = started();
    String ifaces = sh(sb, "cat /proc/net/dev");
    assertThat(ifaces).doesNotContain("eth").doesNotContain("veth");
    ExecResult connect =
        run(
            sb,
            Command.of(
                "python3",
                "-c",
                "import socket; socket.create_connection(('10.0.0.1', 80), timeout=2)"));
    assertThat(connect.exitCode()).isNotZero();
  }

  @Test
  void destroyIsIdempotentAndLeavesNothing() throws Exception {
    RuntimeSandbox sb = started();
    runtime.destroy(sb.id());
    runtime.destroy(sb.id());
    assertThat(runtime.liveSandboxes()).doesNotContain(sb.id());
    assertThat(runtime.isAlive(sb)).isFalse();
    assertThat(
            Files.exists(java.nio.file.Path.of("/sys/fs/cgroup/memory/forkyard", sb.id().value())))
        .isFalse();
    String mounts = Files.readString(java.nio.file.Path.of("/proc/self/mountinfo"));
    assertThat(mounts).doesNotContain(sb.id().value());
  }

  static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
