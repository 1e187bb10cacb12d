package io.forkyard.runtime.gvisor;

import static org.assertj.core.api.Assertions.assertThat;

import io.forkyard.core.spi.RuntimeSandbox;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("integration")
class GvisorSnapshotTest extends GvisorHarness {

  private static final String COUNTER =
      "nohup /bin/sh -c 'i=0; while :; do i=$((i+1)); echo $i > /root/count.tmp; mv /root/count.tmp /root/count; sleep 0.05; done'"
          + " >/dev/null 2>&1 &";

  private static long count(GvisorRuntime rt, RuntimeSandbox sb, GvisorHarness h) {
    return Long.parseLong(h.sh(sb, "cat /root/count").strip());
  }

  @Test
  void memoryForksKeepProcessesFilesAndGetOwnIdentity() throws Exception {
    RuntimeSandbox base = started();
    sh(base, COUNTER);
    sh(base, "echo before > /root/before.txt");
    // a process from before the checkpoint that reads randomness the moment a fork tells it to
    sh(
        base,
        "nohup /bin/sh -c 'while [ ! -e /root/go ]; do sleep 0.02; done;"
            + " head -c 32 /dev/urandom | od -An -tx1 > /root/rand' >/dev/null 2>&1 &");
    Thread.sleep(300);
    long atCheckpoint = count(runtime, base, this);
    Path image = stateDir.resolve("snap1");
    runtime.checkpoint(base, image);
    assertThat(runtime.isAlive(base)).isFalse();

    RuntimeSandbox a = forkOf(base);
    RuntimeSandbox b = forkOf(base);
    var pool = Executors.newVirtualThreadPerTaskExecutor();
    List<CompletableFuture<Void>> restores = new ArrayList<>();
    for (RuntimeSandbox f : List.of(a, b)) {
      restores.add(CompletableFuture.runAsync(() -> runtime.restore(f, image), pool));
    }
    restores.forEach(CompletableFuture::join);

    for (RuntimeSandbox f : List.of(a, b)) {
      assertThat(sh(f, "cat /root/before.txt")).isEqualTo("before\n");
      long first = count(runtime, f, this);
      assertThat(first).isGreaterThanOrEqualTo(atCheckpoint);
      Thread.sleep(200);
      assertThat(count(runtime, f, this)).isGreaterThan(first);
      assertThat(sh(f, "hostname").strip()).isEqualTo(f.hostname());
    }
    assertThat(a.hostname()).isNotEqualTo(b.hostname());

    sh(a, "echo mine > /root/a-only.txt");
    assertThat(run(b, io.forkyard.api.Command.of("cat", "/root/a-only.txt")).exitCode())
        .isNotZero();
    assertThat(rootfs.resolve("root/a-only.txt")).doesNotExist();
    assertThat(rootfs.resolve("root/before.txt")).doesNotExist();

    String randA = sh(a, "head -c 32 /dev/urandom | od -An -tx1");
    String randB = sh(b, "head -c 32 /dev/urandom | od -An -tx1");
    assertThat(randA).isNotEqualTo(randB);
    // right after the fork, by a process that was running at the checkpoint
    sh(a, "touch /root/go");
    sh(b, "touch /root/go");
    String waitRand = "while [ ! -s /root/rand ]; do sleep 0.02; done; cat /root/rand";
    assertThat(sh(a, waitRand)).hasSizeGreaterThan(32).isNotEqualTo(sh(b, waitRand));
    // forkyard's init, the sandbox's memory guard, is part of the snapshot
    assertThat(sh(a, "cat /proc/1/cmdline | tr '\\0' ' '")).contains("forkyard-init");

    // The service brings the checkpointed base back under its own id so it keeps running.
    runtime.restore(base, image);
    assertThat(sh(base, "cat /root/before.txt")).isEqualTo("before\n");
    assertThat(sh(base, "hostname").strip()).isEqualTo(base.hostname());
    assertThat(runtime.liveSandboxes()).contains(base.id(), a.id(), b.id());
  }

  @Test
  void suspendAndResumeUnderTheSameId() throws Exception {
    RuntimeSandbox sb = started();
    sh(sb, "echo kept > /root/kept");
    Path image = stateDir.resolve("suspend");
    runtime.checkpoint(sb, image);
    runtime.destroy(sb.id());
    runtime.restore(sb, image);
    assertThat(sh(sb, "cat /root/kept")).isEqualTo("kept\n");
  }

  @Test
  void exportsChangedFilesAsTar() throws Exception {
    long beforeStart = java.time.Instant.now().getEpochSecond();
    RuntimeSandbox sb = started();
    // the marker is dated before the start, however late init writes it: a first command that
    // ran before init got to it once had its files left out (seen on a loaded CI machine)
    assertThat(Long.parseLong(sh(sb, "stat -c %Y " + OciSpec.START_MARKER).strip()))
        .isLessThan(beforeStart + 1);
    sh(
        sb,
        "mkdir -p /work/sub && echo data > /work/sub/file.txt && echo x >> /etc/hosts"
            + " && echo old > /work/old-mtime.txt && touch -d @100 /work/old-mtime.txt");
    Path tar = stateDir.resolve("changes.tar");
    runtime.exportChanges(sb, tar);
    assertThat(runtime.isAlive(sb)).isTrue();
    Process p = new ProcessBuilder("tar", "-tf", tar.toString()).start();
    String listing = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).isZero();
    assertThat(listing.lines().toList())
        .contains("./work/sub/file.txt", "./etc/hosts", "./work/old-mtime.txt")
        .doesNotContain("./run/forkyard/started", "./usr/bin/python3")
        .noneMatch(l -> l.startsWith("./proc") || l.startsWith("./sys"));
    assertThat(Files.size(tar)).isLessThan(1 << 20);
  }
}
