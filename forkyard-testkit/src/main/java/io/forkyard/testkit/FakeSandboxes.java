package io.forkyard.testkit;

import io.forkyard.api.CheckpointOptions;
import io.forkyard.api.Command;
import io.forkyard.api.CommandResult;
import io.forkyard.api.ErrorCode;
import io.forkyard.api.FileEntry;
import io.forkyard.api.ForkResult;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.ImageInfo;
import io.forkyard.api.ImageRecipe;
import io.forkyard.api.InvalidRequestException;
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
import io.forkyard.api.SnapshotNotReadyException;
import io.forkyard.api.SnapshotStatus;
import io.forkyard.api.SnapshotType;
import io.forkyard.core.SandboxPaths;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

/**
 * An in-memory {@link Sandboxes} for unit tests: the service's states, checks and errors, files in
 * memory, and never a sandbox. It records what it was asked (specs, commands, checkpoint options,
 * image recipes) and can be told to fail ({@link #failWith}, {@link #failingForks}).
 *
 * <p>Two presets differ only where tests need different things:
 *
 * <ul>
 *   <li>{@link #runningOnHost()}: image "python" is built, {@code create} needs a built image, and
 *       {@code exec} runs the argv as a plain host process (for tests of the daemon, which stream
 *       real output and wait on real commands);
 *   <li>{@link #scripted()}: no image is built and any image name is accepted, and {@code exec}
 *       runs nothing: {@link #onExec} answers, by default echoing the argv (for tests of the CLI,
 *       which look at what a verb asked for).
 * </ul>
 *
 * <p>Thread-safe: every change holds the fake's lock; a command runs outside it, so a slow one does
 * not block other calls. The public maps and lists are for assertions: read them once the calls
 * under test have returned.
 */
public final class FakeSandboxes implements Sandboxes {
  /** The largest file {@link #writeFile} takes; larger is {@link ErrorCode#LIMIT_EXCEEDED}. */
  public static final long MAX_FILE = 1024 * 1024;

  /** An {@link #onExec} that runs nothing: writes the argv joined by spaces to stdout, exit 0. */
  public static final BiFunction<Command, OutputSink, CommandResult> ECHO_ARGV =
      (c, sink) -> {
        byte[] out = (String.join(" ", c.argv()) + "\n").getBytes(StandardCharsets.UTF_8);
        sink.stdout(out, 0, out.length);
        return new CommandResult(0, "", "", false, false, false, Duration.ZERO);
      };

  /**
   * An {@link #onExec} that runs the argv as a host process (env, cwd, stdin and timeout of the
   * command), streaming its output to the sink. Tests only: nothing is isolated.
   */
  public static final BiFunction<Command, OutputSink, CommandResult> HOST_PROCESS =
      FakeSandboxes::runOnHost;

  /** Every sandbox ever created, in creation order, final ones included. */
  public final Map<SandboxId, SandboxInfo> sandboxes = new LinkedHashMap<>();

  /** The files of each sandbox not yet terminated: normalized absolute path to content. */
  public final Map<SandboxId, Map<String, byte[]>> files = new LinkedHashMap<>();

  /** Snapshots not deleted, in creation order. */
  public final Map<SnapshotId, SnapshotInfo> snapshots = new LinkedHashMap<>();

  /** Built images by name, in build order. */
  public final Map<String, ImageInfo> images = new LinkedHashMap<>();

  /** The spec of every create and fork call, in call order (refused ones included). */
  public final List<SandboxSpec> specs = new CopyOnWriteArrayList<>();

  /** Every command exec was asked to run in a running sandbox. */
  public final List<Command> commands = new CopyOnWriteArrayList<>();

  /** The options of every checkpoint of a running sandbox. */
  public final List<CheckpointOptions> checkpoints = new CopyOnWriteArrayList<>();

  /** The recipe of every image build. */
  public final List<ImageRecipe> recipes = new CopyOnWriteArrayList<>();

  /** When set, every call but {@link #close()} throws it. */
  public volatile ForkyardException failWith;

  /** Copies of a {@link #fork} batch at these indexes fail (INVALID_STATE, "copy i broke"). */
  public volatile List<Integer> failingForks = List.of();

  /** What exec does once the sandbox is known to be running: (command, sink) to result. */
  public volatile BiFunction<Command, OutputSink, CommandResult> onExec;

  /**
   * Whether {@code create} refuses an image that was not built (NOT_FOUND), as the service does;
   * when false any image name is accepted.
   */
  public volatile boolean createNeedsBuiltImage;

  /** Whether {@link #close()} was called. Calls after it still work. */
  public volatile boolean closed;

  private final Map<SnapshotId, Map<String, byte[]>> snapshotFiles = new LinkedHashMap<>();

  private FakeSandboxes(
      BiFunction<Command, OutputSink, CommandResult> onExec, boolean createNeedsBuiltImage) {
    this.onExec = onExec;
    this.createNeedsBuiltImage = createNeedsBuiltImage;
  }

  /**
   * Image "python" built, {@code create} needs a built image, commands run as host processes
   * ({@link #HOST_PROCESS}).
   */
  public static FakeSandboxes runningOnHost() {
    FakeSandboxes fake = new FakeSandboxes(HOST_PROCESS, true);
    fake.addImage("python", "python3");
    return fake;
  }

  /**
   * No image built and any image name accepted; commands run nothing and echo their argv ({@link
   * #ECHO_ARGV}) unless a test sets {@link #onExec}.
   */
  public static FakeSandboxes scripted() {
    return new FakeSandboxes(ECHO_ARGV, false);
  }

  /** Adds a built image, as if a build of it had finished earlier. */
  public synchronized ImageInfo addImage(String name, String... packages) {
    ImageInfo info = new ImageInfo(name, "fake", List.of(packages), 1 << 20, Instant.now());
    images.put(name, info);
    return info;
  }

  /** The first sandbox created, if any. */
  public synchronized Optional<SandboxInfo> only() {
    return sandboxes.values().stream().findFirst();
  }

  private void maybeFail() {
    ForkyardException e = failWith;
    if (e != null) {
      throw e;
    }
  }

  // ---- sandboxes

  @Override
  public synchronized Sandbox create(SandboxSpec spec) {
    maybeFail();
    specs.add(spec);
    if (spec.snapshot().isPresent()) {
      SandboxInfo info = forkOne(spec, readySnapshot(spec.snapshot().get()));
      return new Sandbox(this, info.id());
    }
    if (createNeedsBuiltImage && !images.containsKey(spec.imageOrDefault())) {
      throw new NotFoundException("no image " + spec.imageOrDefault());
    }
    SandboxInfo info =
        newInfo(
            spec,
            spec.imageOrDefault(),
            Optional.empty(),
            spec.resources().orElse(Resources.DEFAULT));
    files.put(info.id(), new TreeMap<>());
    sandboxes.put(info.id(), info);
    return new Sandbox(this, info.id());
  }

  private static SandboxInfo newInfo(
      SandboxSpec spec, String image, Optional<SnapshotId> source, Resources res) {
    SandboxId id = SandboxId.random();
    Instant now = Instant.now();
    return new SandboxInfo(
        id,
        spec.name().orElse(""),
        SandboxState.RUNNING,
        "fake",
        image,
        source,
        res,
        spec.network().orElse(NetworkPolicy.NONE),
        spec.labels(),
        id.value(),
        now,
        now.plusSeconds(spec.timeoutSecsOrDefault()),
        "");
  }

  private SnapshotInfo readySnapshot(SnapshotId id) {
    SnapshotInfo s = snapshot(id);
    if (s.status() != SnapshotStatus.COMPLETED) {
      throw new SnapshotNotReadyException("snapshot " + id + " is " + s.status());
    }
    return s;
  }

  private SandboxInfo forkOne(SandboxSpec spec, SnapshotInfo s) {
    if (spec.image().isPresent()) {
      throw new InvalidRequestException(
          "a fork takes its image from the snapshot; do not give one");
    }
    if (s.type() == SnapshotType.MEMORY
        && spec.resources().isPresent()
        && !spec.resources().get().equals(s.resources())) {
      throw new InvalidRequestException(
          "resources of a MEMORY snapshot are fixed at checkpoint time");
    }
    SandboxInfo info = newInfo(spec, s.image(), Optional.of(s.id()), s.resources());
    files.put(info.id(), new TreeMap<>(snapshotFiles.get(s.id())));
    sandboxes.put(info.id(), info);
    return info;
  }

  @Override
  public synchronized List<ForkResult> fork(SandboxSpec spec, int count) {
    maybeFail();
    specs.add(spec);
    if (count < 1 || count > 200) {
      throw new InvalidRequestException("fork count must be between 1 and 200, got " + count);
    }
    SnapshotInfo s =
        readySnapshot(
            spec.snapshot()
                .orElseThrow(() -> new InvalidRequestException("fork needs a snapshot id")));
    if (spec.name().isPresent() && count > 1) {
      throw new InvalidRequestException("a name can be given only when forking one copy");
    }
    List<Integer> failing = failingForks;
    List<ForkResult> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      if (failing.contains(i)) {
        out.add(
            ForkResult.failed(i, new InvalidStateException("copy " + i + " broke"), Duration.ZERO));
      } else {
        out.add(ForkResult.succeeded(i, forkOne(spec, s), Duration.ofMillis(1)));
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

  private void setState(SandboxId id, SandboxState state) {
    SandboxInfo i = info(id);
    sandboxes.put(
        id,
        new SandboxInfo(
            i.id(),
            i.name(),
            state,
            i.runtime(),
            i.image(),
            i.sourceSnapshot(),
            i.resources(),
            i.network(),
            i.labels(),
            i.hostname(),
            i.createdAt(),
            i.expiresAt(),
            i.message()));
  }

  @Override
  public synchronized void terminate(SandboxId id) {
    SandboxState state = info(id).state();
    if (state.isFinal()) {
      throw new InvalidStateException("sandbox " + id + " is already " + state);
    }
    setState(id, SandboxState.TERMINATED);
    files.remove(id);
  }

  private void requireRunning(SandboxId id, String op) {
    SandboxState s = info(id).state();
    if (s != SandboxState.RUNNING) {
      throw new InvalidStateException("cannot " + op + " " + id + ": it is " + s + ", not RUNNING");
    }
  }

  // ---- commands and files

  @Override
  public CommandResult exec(SandboxId id, Command command, OutputSink sink) {
    synchronized (this) {
      requireRunning(id, "exec in");
      commands.add(command);
    }
    return onExec.apply(command, sink);
  }

  private static CommandResult runOnHost(Command command, OutputSink sink) {
    long t0 = System.nanoTime();
    ProcessBuilder pb = new ProcessBuilder(command.argv());
    pb.environment().putAll(command.env());
    pb.directory(new File(command.cwd()));
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      return new CommandResult(
          127, "", e.getMessage(), false, false, false, Duration.ofNanos(System.nanoTime() - t0));
    }
    try {
      p.getOutputStream().write(command.stdin());
      p.getOutputStream().close();
    } catch (IOException ignored) {
      // the program did not read its input
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Thread to = Thread.ofVirtual().start(() -> pump(p.getInputStream(), out, sink, false));
    Thread te = Thread.ofVirtual().start(() -> pump(p.getErrorStream(), err, sink, true));
    boolean timedOut = false;
    try {
      if (!p.waitFor(command.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
        timedOut = true;
        p.destroyForcibly();
        p.waitFor();
      }
      to.join();
      te.join();
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new ForkyardException(ErrorCode.INTERNAL, "interrupted");
    }
    int code = p.exitValue() > 128 ? -(p.exitValue() - 128) : p.exitValue();
    return new CommandResult(
        code,
        out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8),
        timedOut,
        false,
        false,
        Duration.ofNanos(System.nanoTime() - t0));
  }

  private static void pump(
      InputStream in, ByteArrayOutputStream keep, OutputSink sink, boolean stderr) {
    byte[] buf = new byte[8192];
    try (in) {
      int n;
      while ((n = in.read(buf)) > 0) {
        keep.write(buf, 0, n);
        if (stderr) {
          sink.stderr(buf, 0, n);
        } else {
          sink.stdout(buf, 0, n);
        }
      }
    } catch (IOException ignored) {
      // process gone
    }
  }

  @Override
  public synchronized void writeFile(SandboxId id, String path, byte[] content) {
    maybeFail();
    String p = SandboxPaths.check(path);
    requireRunning(id, "write a file in");
    if (content.length > MAX_FILE) {
      throw new ForkyardException(
          ErrorCode.LIMIT_EXCEEDED, "file of " + content.length + " bytes is over the limit");
    }
    files.get(id).put(p, content.clone());
  }

  @Override
  public synchronized byte[] readFile(SandboxId id, String path) {
    maybeFail();
    String p = SandboxPaths.check(path);
    requireRunning(id, "read a file in");
    byte[] b = files.get(id).get(p);
    if (b == null) {
      throw new NotFoundException("no file " + p + " in " + id);
    }
    return b.clone();
  }

  @Override
  public synchronized List<FileEntry> listDirectory(SandboxId id, String path) {
    maybeFail();
    String p = SandboxPaths.check(path);
    requireRunning(id, "list a directory in");
    String prefix = p.equals("/") ? "/" : p + "/";
    List<FileEntry> out = new ArrayList<>();
    for (var e : files.get(id).entrySet()) {
      String k = e.getKey();
      if (k.startsWith(prefix) && k.indexOf('/', prefix.length()) < 0) {
        out.add(
            new FileEntry(
                k.substring(prefix.length()),
                k,
                FileEntry.Type.FILE,
                e.getValue().length,
                0644,
                Instant.now()));
      }
    }
    if (out.isEmpty() && !p.equals("/")) {
      throw new NotFoundException("no directory " + p + " in " + id);
    }
    return out;
  }

  @Override
  public synchronized void deleteFile(SandboxId id, String path) {
    maybeFail();
    String p = SandboxPaths.check(path);
    requireRunning(id, "delete a file in");
    if (files.get(id).remove(p) == null) {
      throw new NotFoundException("no file " + p + " in " + id);
    }
  }

  // ---- snapshots

  @Override
  public synchronized SnapshotInfo checkpoint(SandboxId id, CheckpointOptions options) {
    requireRunning(id, "checkpoint");
    checkpoints.add(options);
    SandboxInfo i = info(id);
    SnapshotId sid = SnapshotId.random();
    SnapshotInfo s =
        new SnapshotInfo(
            sid,
            options.type(),
            SnapshotStatus.COMPLETED,
            "fake",
            id,
            i.sourceSnapshot(),
            i.image(),
            i.resources(),
            4096,
            Instant.now(),
            "00",
            options.labels(),
            "");
    snapshotFiles.put(sid, new TreeMap<>(files.get(id)));
    snapshots.put(sid, s);
    if (options.stopAfter()) {
      terminate(id);
    }
    return s;
  }

  /** Puts a snapshot in a state a test needs (e.g. IN_PROGRESS). */
  public synchronized void forceSnapshotStatus(SnapshotId id, SnapshotStatus status) {
    SnapshotInfo s = snapshot(id);
    snapshots.put(
        id,
        new SnapshotInfo(
            s.id(),
            s.type(),
            status,
            s.runtime(),
            s.sourceSandbox(),
            s.parent(),
            s.image(),
            s.resources(),
            s.sizeBytes(),
            s.createdAt(),
            s.checksum(),
            s.labels(),
            s.message()));
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
    snapshotFiles.remove(id);
  }

  @Override
  public synchronized void suspend(SandboxId id) {
    requireRunning(id, "suspend");
    setState(id, SandboxState.SUSPENDED);
  }

  @Override
  public synchronized void resume(SandboxId id) {
    SandboxState state = info(id).state();
    if (state != SandboxState.SUSPENDED) {
      throw new InvalidStateException(
          "cannot resume " + id + ": it is " + state + ", not SUSPENDED");
    }
    setState(id, SandboxState.RUNNING);
  }

  // ---- images

  @Override
  public synchronized List<ImageInfo> images() {
    maybeFail();
    return List.copyOf(images.values());
  }

  /** Records the recipe and reports two phases ("debootstrap", "packages"); builds nothing. */
  @Override
  public synchronized ImageInfo buildImage(ImageRecipe recipe, ProgressListener progress) {
    maybeFail();
    recipes.add(recipe);
    progress.progress("debootstrap", 1, 2);
    progress.progress("packages", 2, 2);
    return addImage(recipe.name(), recipe.packages().toArray(String[]::new));
  }

  @Override
  public synchronized void deleteImage(String name) {
    maybeFail();
    if (images.remove(name) == null) {
      throw new NotFoundException("no image " + name);
    }
  }

  @Override
  public void close() {
    closed = true;
  }
}
