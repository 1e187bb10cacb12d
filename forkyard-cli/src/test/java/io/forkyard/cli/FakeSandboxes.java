package io.forkyard.cli;

import io.forkyard.api.CheckpointOptions;
import io.forkyard.api.Command;
import io.forkyard.api.CommandResult;
import io.forkyard.api.FileEntry;
import io.forkyard.api.ForkResult;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.ImageInfo;
import io.forkyard.api.ImageRecipe;
import io.forkyard.api.InvalidStateException;
import io.forkyard.api.NetworkPolicy;
import io.forkyard.api.NotFoundException;
import io.forkyard.api.OutputSink;
import io.forkyard.api.ProgressListener;
import io.forkyard.api.Resources;
import io.forkyard.api.Sandbox;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SandboxInfo;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.SandboxState;
import io.forkyard.api.Sandboxes;
import io.forkyard.api.SnapshotId;
import io.forkyard.api.SnapshotInfo;
import io.forkyard.api.SnapshotStatus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * In-memory Sandboxes for the CLI's own unit tests: records what the verbs asked for. Thread-safe.
 */
final class FakeSandboxes implements Sandboxes {
  final Map<SandboxId, SandboxInfo> sandboxes = new LinkedHashMap<>();
  final Map<SandboxId, Map<String, byte[]>> files = new LinkedHashMap<>();
  final Map<SnapshotId, SnapshotInfo> snapshots = new LinkedHashMap<>();
  final List<ImageInfo> images = new ArrayList<>();
  final List<SandboxSpec> specs = new ArrayList<>();
  final List<Command> commands = new ArrayList<>();
  final List<CheckpointOptions> checkpoints = new ArrayList<>();
  final List<ImageRecipe> recipes = new ArrayList<>();

  /** Fails every call with this, when set. */
  ForkyardException failWith;

  /** Copies of a batch fork at these indexes fail. */
  List<Integer> failingForks = List.of();

  /** What exec does: (command, sink) → result. Default: echo argv to stdout, exit 0. */
  BiFunction<Command, OutputSink, CommandResult> onExec =
      (c, sink) -> {
        byte[] out = (String.join(" ", c.argv()) + "\n").getBytes(StandardCharsets.UTF_8);
        sink.stdout(out, 0, out.length);
        return new CommandResult(0, "", "", false, false, false, Duration.ZERO);
      };

  boolean closed;

  private void maybeFail() {
    if (failWith != null) {
      throw failWith;
    }
  }

  private SandboxInfo newSandbox(SandboxSpec spec) {
    SandboxId id = SandboxId.random();
    SandboxInfo info =
        new SandboxInfo(
            id,
            spec.name().orElse(""),
            SandboxState.RUNNING,
            "fake",
            spec.imageOrDefault(),
            spec.snapshot(),
            spec.resources().orElse(Resources.DEFAULT),
            spec.network().orElse(NetworkPolicy.NONE),
            spec.labels(),
            "host-" + id.value(),
            Instant.parse("2026-12-04T10:00:00Z"),
            Instant.parse("2026-12-04T11:00:00Z"),
            "");
    sandboxes.put(id, info);
    files.put(id, new LinkedHashMap<>());
    return info;
  }

  @Override
  public synchronized Sandbox create(SandboxSpec spec) {
    maybeFail();
    specs.add(spec);
    return new Sandbox(this, newSandbox(spec).id());
  }

  @Override
  public synchronized List<ForkResult> fork(SandboxSpec spec, int count) {
    maybeFail();
    specs.add(spec);
    snapshot(spec.snapshot().orElseThrow());
    List<ForkResult> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      if (failingForks.contains(i)) {
        out.add(
            ForkResult.failed(i, new InvalidStateException("copy " + i + " broke"), Duration.ZERO));
      } else {
        out.add(ForkResult.succeeded(i, newSandbox(spec), Duration.ZERO));
      }
    }
    return out;
  }

  @Override
  public synchronized SandboxInfo info(SandboxId id) {
    maybeFail();
    SandboxInfo info = sandboxes.get(id);
    if (info == null) {
      throw new NotFoundException("no sandbox " + id);
    }
    return info;
  }

  @Override
  public synchronized List<SandboxInfo> list() {
    maybeFail();
    return List.copyOf(sandboxes.values());
  }

  @Override
  public synchronized void terminate(SandboxId id) {
    SandboxInfo i = info(id);
    sandboxes.put(
        id,
        new SandboxInfo(
            i.id(),
            i.name(),
            SandboxState.TERMINATED,
            i.runtime(),
            i.image(),
            i.sourceSnapshot(),
            i.resources(),
            i.network(),
            i.labels(),
            i.hostname(),
            i.createdAt(),
            i.expiresAt(),
            ""));
  }

  private SandboxInfo running(SandboxId id) {
    SandboxInfo i = info(id);
    if (i.state() != SandboxState.RUNNING) {
      throw new InvalidStateException("sandbox " + id + " is " + i.state());
    }
    return i;
  }

  @Override
  public synchronized CommandResult exec(SandboxId id, Command command, OutputSink sink) {
    running(id);
    commands.add(command);
    return onExec.apply(command, sink);
  }

  @Override
  public synchronized void writeFile(SandboxId id, String path, byte[] content) {
    running(id);
    files.get(id).put(path, content.clone());
  }

  @Override
  public synchronized byte[] readFile(SandboxId id, String path) {
    running(id);
    byte[] b = files.get(id).get(path);
    if (b == null) {
      throw new NotFoundException("no file " + path);
    }
    return b.clone();
  }

  @Override
  public synchronized List<FileEntry> listDirectory(SandboxId id, String path) {
    running(id);
    List<FileEntry> out = new ArrayList<>();
    for (var e : files.get(id).entrySet()) {
      out.add(
          new FileEntry(
              e.getKey().substring(e.getKey().lastIndexOf('/') + 1),
              e.getKey(),
              FileEntry.Type.FILE,
              e.getValue().length,
              0644,
              Instant.EPOCH));
    }
    return out;
  }

  @Override
  public synchronized void deleteFile(SandboxId id, String path) {
    running(id);
    files.get(id).remove(path);
  }

  @Override
  public synchronized SnapshotInfo checkpoint(SandboxId id, CheckpointOptions options) {
    SandboxInfo i = running(id);
    checkpoints.add(options);
    SnapshotInfo s =
        new SnapshotInfo(
            SnapshotId.random(),
            options.type(),
            SnapshotStatus.COMPLETED,
            "fake",
            id,
            i.sourceSnapshot(),
            i.image(),
            i.resources(),
            4096,
            Instant.EPOCH,
            "abc",
            options.labels(),
            "");
    snapshots.put(s.id(), s);
    if (options.stopAfter()) {
      terminate(id);
    }
    return s;
  }

  @Override
  public synchronized SnapshotInfo snapshot(SnapshotId id) {
    maybeFail();
    SnapshotInfo s = snapshots.get(id);
    if (s == null) {
      throw new NotFoundException("no snapshot " + id);
    }
    return s;
  }

  @Override
  public synchronized List<SnapshotInfo> snapshots() {
    maybeFail();
    return List.copyOf(snapshots.values());
  }

  @Override
  public synchronized void deleteSnapshot(SnapshotId id) {
    snapshot(id);
    snapshots.remove(id);
  }

  @Override
  public synchronized void suspend(SandboxId id) {
    SandboxInfo i = running(id);
    sandboxes.put(
        id,
        new SandboxInfo(
            i.id(),
            i.name(),
            SandboxState.SUSPENDED,
            i.runtime(),
            i.image(),
            i.sourceSnapshot(),
            i.resources(),
            i.network(),
            i.labels(),
            i.hostname(),
            i.createdAt(),
            i.expiresAt(),
            ""));
  }

  @Override
  public synchronized void resume(SandboxId id) {
    SandboxInfo i = info(id);
    if (i.state() != SandboxState.SUSPENDED) {
      throw new InvalidStateException("sandbox " + id + " is not SUSPENDED");
    }
    sandboxes.put(
        id,
        new SandboxInfo(
            i.id(),
            i.name(),
            SandboxState.RUNNING,
            i.runtime(),
            i.image(),
            i.sourceSnapshot(),
            i.resources(),
            i.network(),
            i.labels(),
            i.hostname(),
            i.createdAt(),
            i.expiresAt(),
            ""));
  }

  @Override
  public synchronized List<ImageInfo> images() {
    maybeFail();
    return List.copyOf(images);
  }

  @Override
  public synchronized ImageInfo buildImage(ImageRecipe recipe, ProgressListener progress) {
    maybeFail();
    recipes.add(recipe);
    progress.progress("debootstrap", 1, 2);
    progress.progress("packages", 2, 2);
    ImageInfo info =
        new ImageInfo(recipe.name(), "hash", recipe.packages(), 1 << 20, Instant.EPOCH);
    images.add(info);
    return info;
  }

  @Override
  public synchronized void deleteImage(String name) {
    maybeFail();
    if (!images.removeIf(i -> i.name().equals(name))) {
      throw new NotFoundException("no image " + name);
    }
  }

  @Override
  public synchronized void close() {
    closed = true;
  }

  Optional<SandboxInfo> only() {
    return sandboxes.values().stream().findFirst();
  }
}
