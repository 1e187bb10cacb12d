package io.forkyard.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.forkyard.api.CheckpointOptions;
import io.forkyard.api.Command;
import io.forkyard.api.CommandResult;
import io.forkyard.api.FileEntry;
import io.forkyard.api.ForkResult;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.InvalidStateException;
import io.forkyard.api.NotFoundException;
import io.forkyard.api.OutputSink;
import io.forkyard.api.Resources;
import io.forkyard.api.Sandbox;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.SandboxState;
import io.forkyard.api.Sandboxes;
import io.forkyard.api.SnapshotId;
import io.forkyard.api.SnapshotInfo;
import io.forkyard.api.SnapshotStatus;
import io.forkyard.api.SnapshotType;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Sandboxes} implementation must do, the same way: the embedded service and the
 * remote client run these tests unchanged. A subclass supplies the instance ({@link #sandboxes()})
 * and the spec of a fresh sandbox ({@link #spec()}); everything a test makes is terminated in
 * {@link #cleanUp()} even when the test fails.
 */
abstract class SandboxesContract {
  private final List<SandboxId> made = new ArrayList<>();
  private final List<SnapshotId> snapshotsMade = new ArrayList<>();

  protected abstract Sandboxes sandboxes();

  /** A spec for a fresh sandbox from an image that has /bin/sh and coreutils or busybox. */
  protected SandboxSpec spec() {
    return SandboxSpec.builder().timeoutSecs(600).build();
  }

  /** A directory commands may write to, inside the sandbox. */
  protected String scratch() {
    return "/tmp";
  }

  protected Sandbox create() {
    Sandbox s = sandboxes().create(spec());
    made.add(s.id());
    return s;
  }

  private SnapshotInfo checkpoint(Sandbox s, CheckpointOptions options) {
    SnapshotInfo snap = s.checkpoint(options);
    snapshotsMade.add(snap.id());
    return snap;
  }

  private List<ForkResult> fork(SnapshotId snap, int n) {
    List<ForkResult> results = sandboxes().fork(snap, n);
    results.forEach(r -> r.sandbox().ifPresent(i -> made.add(i.id())));
    return results;
  }

  @AfterEach
  void cleanUp() {
    for (SandboxId id : made) {
      try {
        if (!sandboxes().info(id).state().isFinal()) {
          sandboxes().terminate(id);
        }
      } catch (RuntimeException ignored) {
        // already gone
      }
    }
    for (SnapshotId id : snapshotsMade) {
      try {
        sandboxes().deleteSnapshot(id);
      } catch (RuntimeException ignored) {
        // already deleted by the test
      }
    }
    made.clear();
    snapshotsMade.clear();
  }

  @Test
  void createsRunsAndTerminates() {
    Sandbox s = create();
    assertThat(s.info().state()).isEqualTo(SandboxState.RUNNING);
    assertThat(sandboxes().list()).anySatisfy(i -> assertThat(i.id()).isEqualTo(s.id()));
    CommandResult r = s.run("echo", "hello");
    assertThat(r.exitCode()).isZero();
    assertThat(r.stdout()).isEqualTo("hello\n");
    assertThat(r.succeeded()).isTrue();
    s.terminate();
    assertThat(sandboxes().info(s.id()).state()).isEqualTo(SandboxState.TERMINATED);
  }

  @Test
  void reportsExitCodeAndStderr() {
    Sandbox s = create();
    CommandResult r = s.run(Command.shell("echo oops >&2; exit 3"));
    assertThat(r.exitCode()).isEqualTo(3);
    assertThat(r.stderr()).isEqualTo("oops\n");
    assertThat(r.succeeded()).isFalse();
  }

  @Test
  void passesEnvCwdAndStdinUntouched() {
    Sandbox s = create();
    String value = "a \"quoted\" value with  spaces and 'single' $HOME";
    CommandResult r = s.run(Command.of("printenv", "FY_VALUE").withEnv("FY_VALUE", value));
    assertThat(r.stdout()).isEqualTo(value + "\n");
    assertThat(s.run(Command.of("pwd").withCwd(scratch())).stdout().strip()).isEqualTo(scratch());
    byte[] input = "line one\nline two\n".getBytes(StandardCharsets.UTF_8);
    assertThat(s.run(Command.of("cat").withStdin(input)).stdout())
        .isEqualTo("line one\nline two\n");
  }

  @Test
  void streamsOutputToTheSink() {
    Sandbox s = create();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    OutputSink sink =
        new OutputSink() {
          @Override
          public synchronized void stdout(byte[] chunk, int offset, int length) {
            out.write(chunk, offset, length);
          }

          @Override
          public synchronized void stderr(byte[] chunk, int offset, int length) {
            err.write(chunk, offset, length);
          }
        };
    CommandResult r = s.run(Command.shell("echo one; echo two >&2; echo three"), sink);
    assertThat(r.exitCode()).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("one\nthree\n");
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("two\n");
    assertThat(r.stdout()).isEqualTo("one\nthree\n");
  }

  @Test
  void killsACommandPastItsTimeout() {
    Sandbox s = create();
    CommandResult r = s.run(Command.of("sleep", "30").withTimeout(Duration.ofMillis(500)));
    assertThat(r.timedOut()).isTrue();
    assertThat(r.succeeded()).isFalse();
    assertThat(s.run("echo", "still here").stdout()).isEqualTo("still here\n");
  }

  @Test
  void writesReadsListsAndDeletesFiles() {
    Sandbox s = create();
    byte[] binary = new byte[256];
    for (int i = 0; i < binary.length; i++) {
      binary[i] = (byte) i;
    }
    String dir = scratch() + "/fy-contract";
    s.writeFile(dir + "/data.bin", binary);
    assertThat(s.readFile(dir + "/data.bin")).isEqualTo(binary);
    assertThat(s.listDirectory(dir))
        .anySatisfy(
            e -> {
              assertThat(e.name()).isEqualTo("data.bin");
              assertThat(e.type()).isEqualTo(FileEntry.Type.FILE);
              assertThat(e.sizeBytes()).isEqualTo(256);
            });
    s.deleteFile(dir + "/data.bin");
    assertThatThrownBy(() -> s.readFile(dir + "/data.bin")).isInstanceOf(NotFoundException.class);
  }

  @Test
  void rejectsPathOutsideSandbox() {
    Sandbox s = create();
    assertThatThrownBy(() -> s.writeFile(scratch() + "/../../etc/passwd", new byte[] {1}))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("..");
    assertThatThrownBy(() -> s.readFile("relative/path"))
        .isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> s.listDirectory("/../..")).isInstanceOf(InvalidRequestException.class);
  }

  @Test
  void rejectsUnknownIds() {
    assertThatThrownBy(() -> sandboxes().info(SandboxId.random()))
        .isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> sandboxes().exec(SandboxId.random(), Command.of("true")))
        .isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> sandboxes().snapshot(SnapshotId.random()))
        .isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> sandboxes().fork(SnapshotId.random(), 1))
        .isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> sandboxes().terminate(SandboxId.random()))
        .isInstanceOf(NotFoundException.class);
  }

  @Test
  void rejectsOperationsOnATerminatedSandbox() {
    Sandbox s = create();
    s.terminate();
    assertThatThrownBy(() -> s.run("true")).isInstanceOf(InvalidStateException.class);
    assertThatThrownBy(() -> s.writeFile("/tmp/x", new byte[0]))
        .isInstanceOf(InvalidStateException.class);
    assertThatThrownBy(s::terminate).isInstanceOf(InvalidStateException.class);
    s.close(); // closing a terminated sandbox is not an error
  }

  @Test
  void rejectsAForkCountOutOfRange() {
    assertThatThrownBy(() -> sandboxes().fork(SnapshotId.random(), 0))
        .isInstanceOf(InvalidRequestException.class);
  }

  @Test
  void forksOfAMemorySnapshotSeeItsFilesAndKeepTheirOwn() {
    Sandbox base = create();
    base.writeFile(scratch() + "/base.txt", "from the base");
    SnapshotInfo snap = checkpoint(base, CheckpointOptions.MEMORY);
    assertThat(snap.status()).isEqualTo(SnapshotStatus.COMPLETED);
    assertThat(snap.type()).isEqualTo(SnapshotType.MEMORY);
    assertThat(sandboxes().snapshot(snap.id()).id()).isEqualTo(snap.id());
    assertThat(sandboxes().snapshots()).anySatisfy(i -> assertThat(i.id()).isEqualTo(snap.id()));
    assertThat(base.info().state()).isEqualTo(SandboxState.RUNNING);

    List<ForkResult> forks = fork(snap.id(), 2);
    assertThat(forks).hasSize(2).allSatisfy(r -> assertThat(r.ok()).isTrue());
    assertThat(forks.get(0).index()).isZero();
    SandboxId a = forks.get(0).sandbox().orElseThrow().id();
    SandboxId b = forks.get(1).sandbox().orElseThrow().id();
    assertThat(a).isNotEqualTo(b);
    assertThat(sandboxes().info(a).sourceSnapshot()).contains(snap.id());
    for (SandboxId id : List.of(a, b)) {
      assertThat(
              new String(sandboxes().readFile(id, scratch() + "/base.txt"), StandardCharsets.UTF_8))
          .isEqualTo("from the base");
    }
    sandboxes().writeFile(a, scratch() + "/mine.txt", "a".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> sandboxes().readFile(b, scratch() + "/mine.txt"))
        .isInstanceOf(NotFoundException.class);
  }

  @Test
  void refusesResourceOverrideOnAMemoryFork() {
    Sandbox base = create();
    SnapshotInfo snap = checkpoint(base, CheckpointOptions.MEMORY);
    Resources other =
        new Resources(
            snap.resources().cpus() == 1 ? 2 : 1,
            snap.resources().memoryMb(),
            snap.resources().diskMb());
    SandboxSpec spec = SandboxSpec.builder().snapshot(snap.id()).resources(other).build();
    assertThatThrownBy(() -> sandboxes().create(spec)).isInstanceOf(InvalidRequestException.class);
  }

  @Test
  void createsASingleForkWithCreate() {
    Sandbox base = create();
    // Not /tmp: gVisor mounts its own tmpfs there, which a FILESYSTEM checkpoint does not keep.
    base.writeFile("/var/tmp/fy-f.txt", "x");
    SnapshotInfo snap = checkpoint(base, CheckpointOptions.FILESYSTEM);
    Sandbox fork =
        sandboxes().create(SandboxSpec.builder().snapshot(snap.id()).timeoutSecs(600).build());
    made.add(fork.id());
    assertThat(fork.readString("/var/tmp/fy-f.txt")).isEqualTo("x");
  }

  @Test
  void deletesASnapshot() {
    Sandbox base = create();
    SnapshotInfo snap = checkpoint(base, CheckpointOptions.FILESYSTEM);
    sandboxes().deleteSnapshot(snap.id());
    assertThatThrownBy(() -> sandboxes().snapshot(snap.id())).isInstanceOf(NotFoundException.class);
    assertThatThrownBy(() -> sandboxes().fork(snap.id(), 1)).isInstanceOf(NotFoundException.class);
  }

  @Test
  void listsImages() {
    assertThat(sandboxes().images()).isNotEmpty();
  }
}
