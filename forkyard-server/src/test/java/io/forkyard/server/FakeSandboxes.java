package io.forkyard.server;

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
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A Sandboxes for unit tests of the daemon: same states, checks and errors as the service, but
 * commands run as plain host processes and files live in memory. Never a sandbox: tests only.
 */
final class FakeSandboxes implements Sandboxes {
  private final Map<SandboxId, SandboxInfo> sandboxes = new ConcurrentHashMap<>();
  private final Map<SandboxId, TreeMap<String, byte[]>> files = new ConcurrentHashMap<>();
  private final Map<SnapshotId, SnapshotInfo> snapshots = new ConcurrentHashMap<>();
  private final Map<SnapshotId, TreeMap<String, byte[]>> snapshotFiles = new ConcurrentHashMap<>();
  private final Map<String, ImageInfo> images = new ConcurrentHashMap<>();
  final List<ImageRecipe> recipes = new java.util.concurrent.CopyOnWriteArrayList<>();
  static final long MAX_FILE = 1024 * 1024;

  FakeSandboxes() {
    images.put("python", new ImageInfo("python", "fake", List.of("python3"), 1, Instant.now()));
  }

  @Override
  public synchronized Sandbox create(SandboxSpec spec) {
    if (spec.snapshot().isPresent()) {
      ForkResult r = forkOne(0, spec, readySnapshot(spec.snapshot().get()));
      if (!r.ok()) {
        throw ForkyardException.of(r.errorCode().orElseThrow(), r.errorMessage());
      }
      return new Sandbox(this, r.sandbox().orElseThrow().id());
    }
    if (!images.containsKey(spec.imageOrDefault())) {
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

  private SandboxInfo newInfo(
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
    SnapshotInfo s = snapshots.get(id);
    if (s == null) {
      throw new NotFoundException("no snapshot " + id);
    }
    if (s.status() != SnapshotStatus.COMPLETED) {
      throw new SnapshotNotReadyException("snapshot " + id + " is " + s.status());
    }
    return s;
  }

  private ForkResult forkOne(int index, SandboxSpec spec, SnapshotInfo s) {
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
    return ForkResult.succeeded(index, info, Duration.ofMillis(1));
  }

  @Override
  public synchronized List<ForkResult> fork(SandboxSpec spec, int count) {
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
    List<ForkResult> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(forkOne(i, spec, s));
    }
    return out;
  }

  @Override
  public SandboxInfo info(SandboxId id) {
    SandboxInfo info = sandboxes.get(id);
    if (info == null) {
      throw new NotFoundException("no sandbox " + id);
    }
    return info;
  }

  @Override
  public List<SandboxInfo> list() {
    return sandboxes.values().stream()
        .sorted(Comparator.comparing(SandboxInfo::createdAt))
        .toList();
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
    if (info(id).state().isFinal()) {
      throw new InvalidStateException("sandbox " + id + " is already " + info(id).state());
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

  @Override
  public CommandResult exec(SandboxId id, Command command, OutputSink sink) {
    requireRunning(id, "exec in");
    long t0 = System.nanoTime();
    ProcessBuilder pb = new ProcessBuilder(command.argv());
    pb.environment().putAll(command.env());
    pb.directory(new java.io.File(command.cwd()));
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

  static String checkPath(String path) {
    if (path == null || !path.startsWith("/") || path.indexOf('\0') >= 0) {
      throw new InvalidRequestException(
          "sandbox path must be absolute (start with /), got '" + path + "'");
    }
    StringBuilder out = new StringBuilder();
    for (String part : path.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        throw new InvalidRequestException(
            "sandbox path must not contain '..' segments, got '" + path + "'");
      }
      out.append('/').append(part);
    }
    return out.isEmpty() ? "/" : out.toString();
  }

  @Override
  public void writeFile(SandboxId id, String path, byte[] content) {
    String p = checkPath(path);
    requireRunning(id, "write a file in");
    if (content.length > MAX_FILE) {
      throw new ForkyardException(
          ErrorCode.LIMIT_EXCEEDED, "file of " + content.length + " bytes is over the limit");
    }
    files.get(id).put(p, content.clone());
  }

  @Override
  public byte[] readFile(SandboxId id, String path) {
    String p = checkPath(path);
    requireRunning(id, "read a file in");
    byte[] b = files.get(id).get(p);
    if (b == null) {
      throw new NotFoundException("no file " + p + " in " + id);
    }
    return b.clone();
  }

  @Override
  public List<FileEntry> listDirectory(SandboxId id, String path) {
    String p = checkPath(path);
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
  public void deleteFile(SandboxId id, String path) {
    String p = checkPath(path);
    requireRunning(id, "delete a file in");
    if (files.get(id).remove(p) == null) {
      throw new NotFoundException("no file " + p + " in " + id);
    }
  }

  @Override
  public synchronized SnapshotInfo checkpoint(SandboxId id, CheckpointOptions options) {
    requireRunning(id, "checkpoint");
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
            42,
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
  void forceSnapshotStatus(SnapshotId id, SnapshotStatus status) {
    SnapshotInfo s = snapshots.get(id);
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
  public SnapshotInfo snapshot(SnapshotId id) {
    SnapshotInfo s = snapshots.get(id);
    if (s == null) {
      throw new NotFoundException("no snapshot " + id);
    }
    return s;
  }

  @Override
  public List<SnapshotInfo> snapshots() {
    return List.copyOf(snapshots.values());
  }

  @Override
  public void deleteSnapshot(SnapshotId id) {
    if (snapshots.remove(id) == null) {
      throw new NotFoundException("no snapshot " + id);
    }
  }

  @Override
  public synchronized void suspend(SandboxId id) {
    requireRunning(id, "suspend");
    setState(id, SandboxState.SUSPENDED);
  }

  @Override
  public synchronized void resume(SandboxId id) {
    if (info(id).state() != SandboxState.SUSPENDED) {
      throw new InvalidStateException(
          "cannot resume " + id + ": it is " + info(id).state() + ", not SUSPENDED");
    }
    setState(id, SandboxState.RUNNING);
  }

  @Override
  public List<ImageInfo> images() {
    return List.copyOf(images.values());
  }

  @Override
  public ImageInfo buildImage(ImageRecipe recipe, ProgressListener progress) {
    recipes.add(recipe);
    progress.progress("fake build", 1, 1);
    return images.computeIfAbsent(
        recipe.name(), n -> new ImageInfo(n, "fake", recipe.packages(), 1, Instant.now()));
  }

  @Override
  public void deleteImage(String name) {
    if (images.remove(name) == null) {
      throw new NotFoundException("no image " + name);
    }
  }

  @Override
  public void close() {}
}
