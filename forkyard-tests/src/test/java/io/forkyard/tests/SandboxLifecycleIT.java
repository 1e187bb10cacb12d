package io.forkyard.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.forkyard.api.CheckpointOptions;
import io.forkyard.api.Command;
import io.forkyard.api.CommandResult;
import io.forkyard.api.ErrorCode;
import io.forkyard.api.FileEntry;
import io.forkyard.api.ForkResult;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.InvalidStateException;
import io.forkyard.api.NotFoundException;
import io.forkyard.api.Resources;
import io.forkyard.api.Sandbox;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.SandboxState;
import io.forkyard.api.SnapshotId;
import io.forkyard.api.SnapshotInfo;
import io.forkyard.api.SnapshotNotReadyException;
import io.forkyard.api.SnapshotStatus;
import io.forkyard.api.SnapshotType;
import io.forkyard.core.SandboxService;
import io.forkyard.testkit.RealService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The embedded service end to end on real gVisor sandboxes. */
@Tag("integration")
class SandboxLifecycleIT {
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

  private static String sh(Sandbox sb, String script) {
    CommandResult r = sb.run(Command.shell(script));
    assertThat(r.exitCode()).as("exit of %s: %s", script, r.stderr()).isZero();
    return r.stdout().strip();
  }

  @Test
  void memoryForkKeepsRunningProcessAndFilesWhileFilesystemForkKeepsOnlyFiles() {
    Sandbox base = svc.create(SandboxSpec.builder().timeoutSecs(600).build());
    base.writeFile("/work/data.txt", "before checkpoint");
    // a process whose state lives only in its memory: a counter it keeps writing out
    base.writeFile(
        "/work/loop.sh",
        "i=0; while true; do i=$((i+1)); echo $i > /tmp/counter; sleep 0.2; done\n");
    sh(base, "nohup /bin/sh /work/loop.sh >/dev/null 2>&1 & echo started");
    await().atMost(Duration.ofSeconds(20)).until(() -> counter(base) >= 3);

    SnapshotInfo mem = base.checkpoint();
    assertThat(mem.status()).isEqualTo(SnapshotStatus.COMPLETED);
    assertThat(mem.type()).isEqualTo(SnapshotType.MEMORY);
    assertThat(mem.checksum()).hasSize(64);
    long atCheckpoint = counter(base);
    SnapshotInfo fs = base.checkpoint(SnapshotType.FILESYSTEM);

    // the base keeps running after both checkpoints
    assertThat(base.info().state()).isEqualTo(SandboxState.RUNNING);
    await().atMost(Duration.ofSeconds(20)).until(() -> counter(base) > atCheckpoint + 1);

    List<ForkResult> forks = svc.fork(mem.id(), 2);
    assertThat(forks).allMatch(ForkResult::ok);
    for (ForkResult f : forks) {
      Sandbox fork = svc.sandbox(f.sandbox().orElseThrow().id());
      assertThat(fork.readString("/work/data.txt")).isEqualTo("before checkpoint");
      long start = counter(fork);
      assertThat(start).isGreaterThanOrEqualTo(atCheckpoint - 1);
      await().atMost(Duration.ofSeconds(20)).until(() -> counter(fork) > start);
      assertThat(sh(fork, LOOPS)).isEqualTo("1");
    }

    Sandbox cold = svc.create(SandboxSpec.ofSnapshot(fs.id()));
    assertThat(cold.readString("/work/data.txt")).isEqualTo("before checkpoint");
    assertThat(cold.readString("/work/loop.sh")).contains("while true");
    assertThat(sh(cold, LOOPS)).isEqualTo("0");
  }

  /** How many processes run loop.sh (the regex does not match its own command line). */
  private static final String LOOPS =
      "grep -l 'loop[.]sh' /proc/[0-9]*/cmdline 2>/dev/null | wc -l";

  private static long counter(Sandbox sb) {
    CommandResult r = sb.run(Command.of("cat", "/tmp/counter"));
    return r.exitCode() == 0 && !r.stdout().isBlank() ? Long.parseLong(r.stdout().strip()) : -1;
  }

  @Test
  void checkpointWithStopLeavesNoContainerForEitherType() {
    for (SnapshotType type : SnapshotType.values()) {
      Sandbox base = svc.create(SandboxSpec.builder().timeoutSecs(300).build());
      SnapshotInfo snap = base.checkpoint(CheckpointOptions.of(type).withStopAfter(true));
      assertThat(snap.status()).isEqualTo(SnapshotStatus.COMPLETED);
      assertThat(base.info().state()).as(type.name()).isEqualTo(SandboxState.TERMINATED);
      assertThat(svc.runtime().liveSandboxes()).as(type.name()).doesNotContain(base.id());
    }
  }

  @Test
  void forksAreIsolatedAndDistinct() {
    Sandbox base = svc.create(SandboxSpec.builder().timeoutSecs(600).build());
    base.writeFile("/work/shared.txt", "base");
    SnapshotInfo snap = base.checkpoint(CheckpointOptions.MEMORY.withStopAfter(true));
    assertThat(base.info().state()).isEqualTo(SandboxState.TERMINATED);

    List<ForkResult> forks = svc.fork(snap.id(), 2);
    Sandbox a = svc.sandbox(forks.get(0).sandbox().orElseThrow().id());
    Sandbox b = svc.sandbox(forks.get(1).sandbox().orElseThrow().id());
    a.writeFile("/work/shared.txt", "changed by a");
    a.writeFile("/work/only-a.txt", "a");
    assertThat(b.readString("/work/shared.txt")).isEqualTo("base");
    assertThatThrownBy(() -> b.readFile("/work/only-a.txt")).isInstanceOf(NotFoundException.class);

    assertThat(sh(a, "hostname")).isEqualTo(a.id().value()).isNotEqualTo(sh(b, "hostname"));
    String ra = sh(a, "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'");
    String rb = sh(b, "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'");
    assertThat(ra).hasSize(64).isNotEqualTo(rb);

    // a third fork still sees the snapshot's file, untouched by a's writes
    Sandbox c = svc.create(SandboxSpec.ofSnapshot(snap.id()));
    assertThat(c.readString("/work/shared.txt")).isEqualTo("base");
  }

  @Test
  void filesRoundTripBinaryAndListing() {
    try (Sandbox sb = svc.create(SandboxSpec.defaults())) {
      byte[] bin = new byte[300_000];
      for (int i = 0; i < bin.length; i++) {
        bin[i] = (byte) (i * 31 + 7);
      }
      sb.writeFile("/data/deep/dir/blob.bin", bin);
      assertThat(sb.readFile("/data/deep/dir/blob.bin")).isEqualTo(bin);
      sb.writeFile("/data/name with space.txt", "x");
      List<FileEntry> ls = sb.listDirectory("/data");
      assertThat(ls).extracting(FileEntry::name).containsExactly("deep", "name with space.txt");
      assertThat(ls.get(0).type()).isEqualTo(FileEntry.Type.DIRECTORY);
      sb.deleteFile("/data/name with space.txt");
      assertThatThrownBy(() -> sb.readFile("/data/name with space.txt"))
          .isInstanceOf(NotFoundException.class);
      assertThatThrownBy(() -> sb.readFile("/data/../../etc/shadow"))
          .isInstanceOf(InvalidRequestException.class);
      assertThatThrownBy(() -> sb.readFile("/data")).isInstanceOf(InvalidRequestException.class);
      assertThatThrownBy(() -> sb.listDirectory("/nope")).isInstanceOf(NotFoundException.class);
      // env with spaces and quotes reaches the program untouched
      CommandResult r =
          sb.run(Command.of("printenv", "WEIRD").withEnv("WEIRD", "a 'b' \"c\" $d `e`"));
      assertThat(r.stdout()).isEqualTo("a 'b' \"c\" $d `e`\n");
      CommandResult cwd = sb.run(Command.of("pwd").withCwd("/data/deep"));
      assertThat(cwd.stdout().strip()).isEqualTo("/data/deep");
    }
  }

  @Test
  void noNetworkByDefault() {
    try (Sandbox sb = svc.create(SandboxSpec.defaults())) {
      // only loopback may exist: no interface with a non-loopback address, no default route
      String ifaces =
          sh(sb, "cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' ' | sort | tr '\\n' ' '");
      assertThat(ifaces.strip()).isIn("lo", "");
      CommandResult r =
          sb.run(
              Command.of(
                      "python3",
                      "-c",
                      "import socket; s=socket.socket(); s.settimeout(3); s.connect(('10.255.255.1', 80))")
                  .withTimeout(Duration.ofSeconds(30)));
      assertThat(r.exitCode()).isNotZero();
    }
  }

  @Test
  void ttlExpiryTerminatesAndLeavesNothingBehind() {
    Sandbox sb = svc.create(SandboxSpec.builder().timeoutSecs(3).build());
    assertThat(svc.runtime().liveSandboxes()).contains(sb.id());
    await().atMost(Duration.ofSeconds(60)).until(() -> sb.info().state() == SandboxState.TIMED_OUT);
    assertThat(svc.runtime().liveSandboxes()).doesNotContain(sb.id());
    Path dir = real.stateDir.resolve("sandboxes").resolve(sb.id().value());
    try (Stream<Path> left = Files.list(dir)) {
      assertThat(left.map(p -> p.getFileName().toString())).containsExactly("sandbox.json");
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
    assertThatThrownBy(() -> sb.run("true"))
        .isInstanceOf(InvalidStateException.class)
        .hasMessageContaining("TIMED_OUT");
  }

  @Test
  void snapshotsSurviveRestartAndOrphansAreReaped() throws Exception {
    Sandbox base = svc.create(SandboxSpec.builder().timeoutSecs(600).build());
    base.writeFile("/work/x", "kept");
    SnapshotInfo snap = base.checkpoint(CheckpointOptions.MEMORY.withStopAfter(true));
    svc.close();

    try (SandboxService again = real.open()) {
      assertThat(again.snapshot(snap.id()).status()).isEqualTo(SnapshotStatus.COMPLETED);
      Sandbox fork = again.create(SandboxSpec.ofSnapshot(snap.id()));
      assertThat(fork.readString("/work/x")).isEqualTo("kept");
      // forget the record, as if the state were lost: the next open reaps the orphan container
      SandboxId orphan = fork.id();
      RealService.deleteTree(real.stateDir.resolve("sandboxes").resolve(orphan.value()));
      try (SandboxService third = real.open()) {
        assertThat(third.runtime().liveSandboxes()).doesNotContain(orphan);
      }
    }
  }

  @Test
  void refusesCorruptOrUnfinishedSnapshots() throws Exception {
    Sandbox base = svc.create(SandboxSpec.builder().timeoutSecs(600).build());
    SnapshotInfo snap = base.checkpoint(CheckpointOptions.MEMORY.withStopAfter(true));
    Path snapDir = real.stateDir.resolve("snapshots").resolve(snap.id().value());

    // an IN_PROGRESS manifest (as left by a checkpoint still running)
    Path manifest = snapDir.resolve("manifest.json");
    String json = Files.readString(manifest);
    Files.writeString(manifest, json.replace("\"COMPLETED\"", "\"IN_PROGRESS\""));
    assertThatThrownBy(() -> svc.fork(snap.id(), 1))
        .isInstanceOf(SnapshotNotReadyException.class)
        .hasMessageContaining("IN_PROGRESS");
    Files.writeString(manifest, json.replace("\"COMPLETED\"", "\"FAILED\""));
    assertThatThrownBy(() -> svc.create(SandboxSpec.ofSnapshot(snap.id())))
        .isInstanceOf(SnapshotNotReadyException.class);
    Files.writeString(manifest, json);

    // flip bytes in a data file: a fresh process verifies the checksum and refuses
    try (Stream<Path> files = Files.walk(snapDir.resolve("memory"))) {
      Path data =
          files
              .filter(Files::isRegularFile)
              .max((x, y) -> Long.compare(x.toFile().length(), y.toFile().length()))
              .orElseThrow();
      byte[] bytes = Files.readAllBytes(data);
      bytes[bytes.length / 2] ^= 0x5a;
      Files.write(data, bytes);
    }
    try (SandboxService fresh = real.open()) {
      assertThatThrownBy(() -> fresh.fork(snap.id(), 1))
          .isInstanceOfSatisfying(
              ForkyardException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.SNAPSHOT_CORRUPT));
    }
    svc.deleteSnapshot(snap.id());
    assertThatThrownBy(() -> svc.snapshot(snap.id())).isInstanceOf(NotFoundException.class);
  }

  @Test
  void rejectsBadRequestsWithoutDisturbingOthers() {
    Sandbox sb = svc.create(SandboxSpec.defaults());
    assertThatThrownBy(() -> svc.info(SandboxId.random())).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> svc.fork(SnapshotId.random(), 1))
        .isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> SandboxId.of("../../etc")).isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> Command.of(List.of())).isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> new Resources(0, 512, 1024))
        .isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> new Resources(1, 1 << 30, 1024))
        .isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> svc.create(SandboxSpec.ofImage("no-such-image")))
        .isInstanceOf(NotFoundException.class);

    SnapshotInfo snap = sb.checkpoint();
    assertThatThrownBy(
            () ->
                svc.fork(
                    SandboxSpec.builder()
                        .snapshot(snap.id())
                        .resources(new Resources(2, 1024, 1024))
                        .build(),
                    1))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("fixed at checkpoint");
    assertThatThrownBy(() -> svc.fork(snap.id(), 0)).isInstanceOf(InvalidRequestException.class);

    sb.terminate();
    assertThatThrownBy(() -> sb.run("true")).isInstanceOf(InvalidStateException.class);
    assertThatThrownBy(sb::terminate).isInstanceOf(InvalidStateException.class);
    assertThatThrownBy(sb::checkpoint).isInstanceOf(InvalidStateException.class);

    // the snapshot and the service are unharmed by all of the above
    try (Sandbox fork = svc.create(SandboxSpec.ofSnapshot(snap.id()))) {
      assertThat(fork.run("echo", "fine").stdout()).isEqualTo("fine\n");
    }
  }

  @Test
  void suspendAndResumeKeepTheSameSandbox() {
    try (Sandbox sb = svc.create(SandboxSpec.defaults())) {
      sh(
          sb,
          "nohup /bin/sh -c 'i=0; while true; do i=$((i+1)); echo $i > /tmp/counter; sleep 0.2; done'"
              + " >/dev/null 2>&1 & echo ok");
      await().atMost(Duration.ofSeconds(20)).until(() -> counter(sb) >= 2);
      sb.writeFile("/work/keep", "me");
      sb.suspend();
      assertThat(sb.info().state()).isEqualTo(SandboxState.SUSPENDED);
      assertThat(svc.runtime().liveSandboxes()).doesNotContain(sb.id());
      assertThatThrownBy(() -> sb.run("true"))
          .isInstanceOf(InvalidStateException.class)
          .hasMessageContaining("resume");
      sb.resume();
      assertThat(sb.info().state()).isEqualTo(SandboxState.RUNNING);
      assertThat(sb.readString("/work/keep")).isEqualTo("me");
      long c = counter(sb);
      await().atMost(Duration.ofSeconds(20)).until(() -> counter(sb) > c);
      assertThat(sh(sb, "hostname")).isEqualTo(sb.id().value());
    }
  }

  @Test
  void commandTimeoutIsReportedAndSandboxSurvives() {
    try (Sandbox sb = svc.create(SandboxSpec.defaults())) {
      CommandResult r = sb.run(Command.of("sleep", "600").withTimeout(Duration.ofSeconds(2)));
      assertThat(r.timedOut()).isTrue();
      assertThat(r.succeeded()).isFalse();
      assertThat(sb.run("echo", "alive").stdout()).isEqualTo("alive\n");
      CommandResult big = sb.run(Command.shell("head -c 40000000 /dev/zero"));
      assertThat(big.stdoutTruncated()).isTrue();
      assertThat(big.stdout())
          .endsWith(
              "output truncated after " + SandboxService.DEFAULT_MAX_OUTPUT_BYTES + " bytes]\n");
      CommandResult killed = sb.run(Command.shell("kill -9 $$"));
      assertThat(killed.exitCode()).isEqualTo(-9);
      assertThat(sb.info().labels()).isEqualTo(Map.of());
    }
  }
}
