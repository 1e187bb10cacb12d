package io.forkyard.core;

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
import io.forkyard.api.RuntimeUnavailableException;
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
import io.forkyard.api.UnsupportedByRuntimeException;
import io.forkyard.core.image.ImageStore;
import io.forkyard.core.spi.Capability;
import io.forkyard.core.spi.ExecResult;
import io.forkyard.core.spi.HostLock;
import io.forkyard.core.spi.RuntimeSandbox;
import io.forkyard.core.spi.SandboxRuntime;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded SDK: sandboxes, snapshots and images on this host, in this process. All state lives
 * in one state directory, so several processes (CLI calls, the daemon) can share it and a restarted
 * process finds everything again: opening the service reaps expired sandboxes and orphaned runtime
 * resources.
 */
public final class SandboxService implements Sandboxes {
  private static final Logger LOG = LoggerFactory.getLogger(SandboxService.class);

  /** Output kept per stream of one command; the rest is read and dropped. */
  public static final long DEFAULT_MAX_OUTPUT_BYTES = 16L * 1024 * 1024;

  /** Largest file that readFile/writeFile move in one call. */
  public static final long DEFAULT_MAX_FILE_BYTES = 256L * 1024 * 1024;

  public static final int MAX_FORK_COUNT = 200;

  /** A PENDING record younger than this may belong to a create in progress in another process. */
  private static final Duration PENDING_GRACE = Duration.ofMinutes(2);

  private static final Duration FINAL_RECORD_KEEP = Duration.ofDays(1);

  private final StateDir state;
  private final SandboxRuntime runtime;
  private final ImageStore images;
  private final Journal journal;
  private final SandboxLocks locks;
  private final ProgressListener progress;
  private final long maxOutputBytes;
  private final long maxFileBytes;
  private final List<String> reaperCommand;
  private final ScheduledExecutorService ttlTimer;
  private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
  private final Map<SandboxId, ScheduledFuture<?>> ttls = new ConcurrentHashMap<>();
  private final Set<String> verifiedSnapshots = ConcurrentHashMap.newKeySet();
  private final boolean ownsImages;
  private volatile boolean closed;

  private SandboxService(Builder b) {
    this.state = new StateDir(b.stateDir == null ? defaultStateDir() : b.stateDir);
    this.runtime = b.runtime == null ? loadRuntime(b.runtimeName) : b.runtime;
    this.images = ImageStore.create(b.imagesDir == null ? state.images() : b.imagesDir);
    // With images shared between state directories, another directory's snapshots may still use
    // an old tree this service cannot see: then old trees are kept, never pruned from here.
    this.ownsImages = b.imagesDir == null;
    images.treeInUse(tree -> !ownsImages || !rootfsUsers(tree.toString()).isEmpty());
    this.journal = new Journal(state.journal());
    this.locks = new SandboxLocks(state.root().resolve("locks"));
    this.progress = b.progress;
    this.maxOutputBytes = b.maxOutputBytes;
    this.maxFileBytes = b.maxFileBytes;
    this.reaperCommand = List.copyOf(b.reaperCommand);
    this.ttlTimer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "forkyard-ttl");
              t.setDaemon(true);
              return t;
            });
    runtime.init(state.runtimeDir(runtime.name()));
    if (!b.livenessInterval.isZero()) {
      long ms = b.livenessInterval.toMillis();
      ttlTimer.scheduleWithFixedDelay(
          () -> workers.execute(this::sweepDeadSandboxes), ms, ms, TimeUnit.MILLISECONDS);
    }
    if (b.recover) {
      recover();
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** $FORKYARD_STATE_DIR, else /var/lib/forkyard for root, else ~/.forkyard. */
  public static Path defaultStateDir() {
    String env = System.getenv("FORKYARD_STATE_DIR");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    if ("root".equals(System.getProperty("user.name"))) {
      return Path.of("/var/lib/forkyard");
    }
    return Path.of(System.getProperty("user.home"), ".forkyard");
  }

  private static SandboxRuntime loadRuntime(String name) {
    List<String> seen = new ArrayList<>();
    for (SandboxRuntime r : ServiceLoader.load(SandboxRuntime.class)) {
      if (r.name().equals(name)) {
        return r;
      }
      seen.add(r.name());
    }
    throw new RuntimeUnavailableException(
        "no runtime named '"
            + name
            + "' on the class path"
            + (seen.isEmpty()
                ? " (none found: is forkyard-runtime-gvisor on the class path?)"
                : " (available: " + seen + ")"));
  }

  public Path stateDir() {
    return state.root();
  }

  public SandboxRuntime runtime() {
    return runtime;
  }

  public ImageStore imageStore() {
    return images;
  }

  // ------------------------------------------------------------------ create / fork

  @Override
  public Sandbox create(SandboxSpec spec) {
    Objects.requireNonNull(spec, "spec");
    ensureOpen();
    if (spec.snapshot().isPresent()) {
      SnapshotManifest m = readySnapshot(spec.snapshot().get());
      checkForkSpec(spec, m);
      ForkResult r = forkOne(0, spec, m);
      if (!r.ok()) {
        throw ForkyardException.of(r.errorCode().orElseThrow(), r.errorMessage());
      }
      return new Sandbox(this, r.sandbox().orElseThrow().id());
    }
    runtime.checkAvailable();
    String imageName = spec.imageOrDefault();
    ImageInfo image = ensureImage(imageName);
    Path rootfs = images.rootfs(imageName);
    Resources res = spec.resources().orElse(Resources.DEFAULT);
    SandboxRecord rec =
        newRecord(
            spec,
            image.name(),
            rootfs,
            Optional.empty(),
            res,
            spec.network().orElse(NetworkPolicy.NONE),
            spec.env());
    startOrFail(rec, () -> runtime.start(runtimeSandbox(rec)));
    return new Sandbox(this, rec.id());
  }

  @Override
  public List<ForkResult> fork(SandboxSpec spec, int count) {
    Objects.requireNonNull(spec, "spec");
    ensureOpen();
    if (count < 1 || count > MAX_FORK_COUNT) {
      throw new InvalidRequestException(
          "fork count must be between 1 and " + MAX_FORK_COUNT + ", got " + count);
    }
    SnapshotId snapId =
        spec.snapshot().orElseThrow(() -> new InvalidRequestException("fork needs a snapshot id"));
    SnapshotManifest m = readySnapshot(snapId);
    checkForkSpec(spec, m);
    if (spec.name().isPresent() && count > 1) {
      throw new InvalidRequestException("a name can be given only when forking one copy");
    }
    List<Future<ForkResult>> futures = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int index = i;
      futures.add(workers.submit(() -> forkOne(index, spec, m)));
    }
    List<ForkResult> results = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      try {
        results.add(futures.get(i).get());
      } catch (Exception e) {
        results.add(
            ForkResult.failed(
                i,
                new ForkyardException(ErrorCode.INTERNAL, "fork " + i + " failed: " + e),
                Duration.ZERO));
      }
    }
    journal.record(
        "fork",
        Map.of(
            "snapshot",
            snapId.value(),
            "count",
            count,
            "ok",
            results.stream().filter(ForkResult::ok).count()));
    return results;
  }

  private void checkForkSpec(SandboxSpec spec, SnapshotManifest m) {
    if (spec.image().isPresent()) {
      throw new InvalidRequestException(
          "a fork takes its image from the snapshot; do not give one");
    }
    if (m.type() == SnapshotType.MEMORY
        && spec.resources().isPresent()
        && !spec.resources().get().equals(m.resources())) {
      throw new InvalidRequestException(
          "resources of a MEMORY snapshot are fixed at checkpoint time ("
              + m.resources()
              + "); forks inherit them. Drop the override, or checkpoint a sandbox"
              + " created with the resources you want");
    }
    if (m.type() == SnapshotType.MEMORY
        && spec.network().map(NetworkPolicy::allowInternetAccess).orElse(false)
        && !m.network().allowInternetAccess()) {
      throw new InvalidRequestException(
          "snapshot "
              + m.id()
              + " was taken without internet access, and a MEMORY snapshot keeps the network"
              + " interfaces it was taken with: checkpoint a sandbox created with"
              + " allowInternetAccess, or fork a FILESYSTEM snapshot (forks of either may still"
              + " turn internet access off or set allow/deny lists)");
    }
  }

  private ForkResult forkOne(int index, SandboxSpec spec, SnapshotManifest m) {
    long t0 = System.nanoTime();
    try {
      Map<String, String> env = new LinkedHashMap<>(m.env());
      env.putAll(spec.env());
      Path rootfs = Path.of(m.rootfs());
      Resources res =
          m.type() == SnapshotType.MEMORY ? m.resources() : spec.resources().orElse(m.resources());
      SandboxRecord rec =
          newRecord(
              spec,
              m.image(),
              rootfs,
              Optional.of(m.id()),
              res,
              spec.network().orElse(m.network()),
              env);
      Path data = state.snapshotDir(m.id()).resolve("memory");
      startOrFail(
          rec,
          () -> {
            if (m.type() == SnapshotType.MEMORY) {
              runtime.restore(runtimeSandbox(rec), data);
            } else {
              runtime.start(runtimeSandbox(rec));
            }
          });
      return ForkResult.succeeded(index, readRecord(rec.id()).info(), Sandboxes.Async.since(t0));
    } catch (ForkyardException e) {
      return ForkResult.failed(index, e, Sandboxes.Async.since(t0));
    } catch (RuntimeException e) {
      return ForkResult.failed(
          index,
          new ForkyardException(ErrorCode.INTERNAL, String.valueOf(e), e),
          Sandboxes.Async.since(t0));
    }
  }

  private SandboxRecord newRecord(
      SandboxSpec spec,
      String image,
      Path rootfs,
      Optional<SnapshotId> source,
      Resources res,
      NetworkPolicy net,
      Map<String, String> env) {
    checkNetwork(net);
    SandboxId id = SandboxId.random();
    Instant now = Instant.now();
    SandboxRecord rec =
        new SandboxRecord(
            id,
            spec.name().orElse(""),
            SandboxState.PENDING,
            runtime.name(),
            image,
            rootfs.toString(),
            source,
            res,
            net,
            spec.labels(),
            env,
            id.value(),
            now,
            now.plusSeconds(spec.timeoutSecsOrDefault()),
            now,
            ProcessHandle.current().pid(),
            "");
    writeRecord(rec);
    journal.record(
        "create",
        Map.of(
            "sandbox",
            id.value(),
            "image",
            image,
            "snapshot",
            source.map(SnapshotId::value).orElse("")));
    return rec;
  }

  private void checkNetwork(NetworkPolicy net) {
    Set<Capability> caps = runtime.capabilities();
    if (net.allowInternetAccess() && !caps.contains(Capability.INTERNET_ACCESS)) {
      throw new UnsupportedByRuntimeException(
          "runtime "
              + runtime.name()
              + " cannot give sandboxes internet access; prepare what a sandbox needs on the host"
              + " and copy it in (files, .debs), as the swarm does");
    }
    if ((!net.allowList().isEmpty() || !net.denyList().isEmpty())
        && !caps.contains(Capability.NETWORK_FILTER)) {
      throw new UnsupportedByRuntimeException(
          "runtime "
              + runtime.name()
              + " cannot enforce network allow/deny lists; drop them or use allowInternetAccess alone");
    }
  }

  private void startOrFail(SandboxRecord rec, Runnable start) {
    try (var held = locks.lock(rec.id().value())) {
      try {
        start.run();
      } catch (RuntimeException e) {
        safeDestroy(rec.id());
        writeRecord(rec.withState(SandboxState.FAILED, "start failed: " + e.getMessage()));
        journal.record(
            "failed", Map.of("sandbox", rec.id().value(), "why", String.valueOf(e.getMessage())));
        throw e instanceof ForkyardException fe
            ? fe
            : new ForkyardException(
                ErrorCode.INTERNAL, "sandbox start failed: " + e.getMessage(), e);
      }
      SandboxRecord running = rec.withState(SandboxState.RUNNING, "");
      writeRecord(running);
      scheduleTtl(running);
    }
  }

  // ------------------------------------------------------------------ queries / terminate

  @Override
  public SandboxInfo info(SandboxId id) {
    return readRecord(id).info();
  }

  @Override
  public List<SandboxInfo> list() {
    List<SandboxInfo> out = new ArrayList<>();
    for (SandboxId id : recordIds()) {
      try {
        out.add(readRecord(id).info());
      } catch (NotFoundException e) {
        // removed concurrently
      }
    }
    out.sort(Comparator.comparing(SandboxInfo::createdAt));
    return out;
  }

  @Override
  public void terminate(SandboxId id) {
    finish(id, SandboxState.TERMINATED, "terminated on request", true);
  }

  /** Moves a sandbox to a final state and frees its host resources. */
  private void finish(SandboxId id, SandboxState finalState, String why, boolean failIfFinal) {
    try (var held = locks.lock(id.value())) {
      SandboxRecord rec = readRecord(id);
      if (rec.state().isFinal()) {
        if (failIfFinal) {
          throw new InvalidStateException("sandbox " + id + " is already " + rec.state());
        }
        return;
      }
      cancelTtl(id);
      safeDestroy(id);
      cleanSandboxDir(id);
      writeRecord(rec.withState(finalState, why));
      journal.record(finalState.name().toLowerCase(), Map.of("sandbox", id.value(), "why", why));
    }
  }

  private void safeDestroy(SandboxId id) {
    try {
      runtime.destroy(id);
    } catch (RuntimeException e) {
      LOG.warn("destroying {} failed: {}", id, e.getMessage());
    }
  }

  /** Removes everything in the sandbox's directory except its record (kept for a while). */
  private void cleanSandboxDir(SandboxId id) {
    Path dir = state.sandboxDir(id);
    try (Stream<Path> children = Files.list(dir)) {
      for (Path p : children.toList()) {
        if (!p.getFileName().toString().equals("sandbox.json")) {
          FileTrees.deleteRecursively(p);
        }
      }
    } catch (IOException e) {
      LOG.warn("cleaning {} failed: {}", dir, e.getMessage());
    }
  }

  // ------------------------------------------------------------------ commands

  @Override
  public CommandResult exec(SandboxId id, Command command, OutputSink sink) {
    Objects.requireNonNull(command, "command");
    SandboxRecord rec = requireRunning(id, "exec");
    ExecResult r =
        runtime.exec(
            runtimeSandbox(rec), command, sink == null ? OutputSink.DISCARD : sink, maxOutputBytes);
    String died = "";
    if (r.exitCode() != 0 && !runtime.isAlive(runtimeSandbox(rec))) {
      String why =
          "the sandbox died while running "
              + command.argv().get(0)
              + " ("
              + runtime.failureCause(id).orElse("killed on the host")
              + "); its state is lost";
      markDead(rec, why);
      died = "\n[forkyard: " + why + "; it is now FAILED]\n";
    }
    return new CommandResult(
        r.exitCode(),
        decode(r.stdout(), r.stdoutTruncated()),
        decode(r.stderr(), r.stderrTruncated()) + died,
        r.timedOut(),
        r.stdoutTruncated(),
        r.stderrTruncated(),
        r.duration());
  }

  private String decode(byte[] bytes, boolean truncated) {
    String s = new String(bytes, StandardCharsets.UTF_8);
    return truncated
        ? s + "\n[forkyard: output truncated after " + maxOutputBytes + " bytes]\n"
        : s;
  }

  private void markDead(SandboxRecord rec, String why) {
    try (var held = locks.lock(rec.id().value())) {
      SandboxRecord now = readRecord(rec.id());
      if (now.state() == SandboxState.RUNNING) {
        failLocked(now, why);
      }
    }
  }

  /**
   * Marks FAILED the running sandboxes of this process that died while idle (the host killed them,
   * e.g. out of memory, or gVisor itself stopped): without this they would show RUNNING until the
   * next command. Skips sandboxes another operation holds; the next sweep sees them. Also expires
   * sandboxes past their TTL whose timer did not (an expiry that failed is only logged).
   */
  private void sweepDeadSandboxes() {
    for (SandboxId id : List.copyOf(ttls.keySet())) {
      if (closed) {
        return;
      }
      try {
        SandboxRecord rec = readRecord(id);
        if (!rec.state().isFinal() && !Instant.now().isBefore(rec.expiresAt())) {
          // Overdue: its timer task failed or never ran. Expiring is idempotent; try again.
          expire(id);
          continue;
        }
        if (rec.state() != SandboxState.RUNNING || runtime.isAlive(runtimeSandbox(rec))) {
          continue;
        }
        Optional<HostLock> held = locks.tryLock(id.value());
        if (held.isEmpty()) {
          continue;
        }
        try (var h = held.get()) {
          SandboxRecord now = readRecord(id);
          if (now.state() == SandboxState.RUNNING && !runtime.isAlive(runtimeSandbox(now))) {
            String why =
                "the sandbox died while idle ("
                    + runtime.failureCause(id).orElse("killed on the host")
                    + "); its state is lost";
            failLocked(now, why);
          }
        }
      } catch (RuntimeException e) {
        LOG.debug("liveness check of {} failed: {}", id, e.toString());
      }
    }
  }

  /** Runs a helper command of forkyard's own (file operations) and returns raw bytes. */
  private ExecResult internalExec(SandboxRecord rec, Command cmd, long maxOut) {
    return runtime.exec(
        runtimeSandbox(rec), cmd.withTimeout(Duration.ofMinutes(5)), OutputSink.DISCARD, maxOut);
  }

  // ------------------------------------------------------------------ files

  @Override
  public void writeFile(SandboxId id, String path, byte[] content) {
    String p = SandboxPaths.check(path);
    Objects.requireNonNull(content, "content");
    SandboxRecord rec = requireRunning(id, "writeFile");
    long limit = Math.min(maxFileBytes, (long) rec.resources().diskMb() * 1024 * 1024);
    if (content.length > limit) {
      throw new ForkyardException(
          ErrorCode.LIMIT_EXCEEDED,
          "file of "
              + content.length
              + " bytes is larger than the limit of "
              + limit
              + " bytes (sandbox disk "
              + rec.resources().diskMb()
              + " MiB, per-file limit "
              + maxFileBytes
              + ")");
    }
    ExecResult r =
        internalExec(
            rec,
            Command.of(
                    "/bin/sh",
                    "-c",
                    "d=$(dirname -- \"$1\") && mkdir -p -- \"$d\" && cat > \"$1\"",
                    "sh",
                    p)
                .withStdin(content),
            64 * 1024);
    if (r.exitCode() != 0) {
      throw fileError("write", p, r);
    }
  }

  @Override
  public byte[] readFile(SandboxId id, String path) {
    String p = SandboxPaths.check(path);
    SandboxRecord rec = requireRunning(id, "readFile");
    ExecResult r =
        internalExec(
            rec,
            Command.of(
                "/bin/sh",
                "-c",
                "if [ -d \"$1\" ]; then echo \"$1: Is a directory\" >&2; exit 1; fi; exec cat -- \"$1\"",
                "sh",
                p),
            maxFileBytes);
    if (r.exitCode() != 0) {
      throw fileError("read", p, r);
    }
    if (r.stdoutTruncated()) {
      throw new ForkyardException(
          ErrorCode.LIMIT_EXCEEDED,
          p
              + " is larger than the read limit of "
              + maxFileBytes
              + " bytes; read it in parts with exec (e.g. split or tail -c)");
    }
    return r.stdout();
  }

  @Override
  public List<FileEntry> listDirectory(SandboxId id, String path) {
    String p = SandboxPaths.check(path);
    SandboxRecord rec = requireRunning(id, "listDirectory");
    ExecResult r =
        internalExec(
            rec,
            Command.of(
                "/bin/sh",
                "-c",
                "if [ ! -d \"$1\" ]; then if [ -e \"$1\" ]; then echo \"$1: Not a directory\" >&2; "
                    + "else echo \"$1: No such file or directory\" >&2; fi; exit 1; fi; "
                    + "exec find \"$1\" -mindepth 1 -maxdepth 1 -printf '%y\\0%s\\0%m\\0%T@\\0%f\\0'",
                "sh",
                p),
            maxOutputBytes);
    if (r.exitCode() != 0) {
      throw fileError("list", p, r);
    }
    return parseListing(p, r.stdout());
  }

  static List<FileEntry> parseListing(String dir, byte[] raw) {
    String[] f = new String(raw, StandardCharsets.UTF_8).split("\0", -1);
    List<FileEntry> out = new ArrayList<>();
    for (int i = 0; i + 4 < f.length; i += 5) {
      FileEntry.Type type =
          switch (f[i]) {
            case "f" -> FileEntry.Type.FILE;
            case "d" -> FileEntry.Type.DIRECTORY;
            case "l" -> FileEntry.Type.SYMLINK;
            default -> FileEntry.Type.OTHER;
          };
      double secs = Double.parseDouble(f[i + 3]);
      Instant mtime = Instant.ofEpochSecond((long) secs, (long) ((secs % 1) * 1e9));
      String name = f[i + 4];
      out.add(
          new FileEntry(
              name,
              (dir.equals("/") ? "" : dir) + "/" + name,
              type,
              Long.parseLong(f[i + 1]),
              Integer.parseInt(f[i + 2], 8),
              mtime));
    }
    out.sort(Comparator.comparing(FileEntry::name));
    return out;
  }

  @Override
  public void deleteFile(SandboxId id, String path) {
    String p = SandboxPaths.check(path);
    if (p.equals("/")) {
      throw new InvalidRequestException("refusing to delete /");
    }
    SandboxRecord rec = requireRunning(id, "deleteFile");
    ExecResult r =
        internalExec(
            rec,
            Command.of(
                "/bin/sh",
                "-c",
                "if [ ! -e \"$1\" ] && [ ! -L \"$1\" ]; then echo \"$1: No such file or directory\" >&2; exit 1; fi;"
                    + " exec rm -d -- \"$1\"",
                "sh",
                p),
            64 * 1024);
    if (r.exitCode() != 0) {
      throw fileError("delete", p, r);
    }
  }

  private ForkyardException fileError(String op, String path, ExecResult r) {
    String err = new String(r.stderr(), StandardCharsets.UTF_8).strip();
    if (err.contains("No such file or directory")) {
      return new NotFoundException(
          "cannot " + op + " " + path + ": no such file or directory in the sandbox");
    }
    if (err.contains("Is a directory")
        || err.contains("Not a directory")
        || err.contains("Directory not empty")
        || err.contains("Permission denied")
        || err.contains("Read-only file system")) {
      return new InvalidRequestException("cannot " + op + " " + path + ": " + err);
    }
    if (err.contains("No space left")) {
      return new ForkyardException(
          ErrorCode.LIMIT_EXCEEDED, "cannot " + op + " " + path + ": the sandbox's disk is full");
    }
    return new ForkyardException(
        ErrorCode.INTERNAL, "cannot " + op + " " + path + " (exit " + r.exitCode() + "): " + err);
  }

  // ------------------------------------------------------------------ snapshots

  @Override
  public SnapshotInfo checkpoint(SandboxId id, CheckpointOptions options) {
    Objects.requireNonNull(options, "options");
    Capability needed =
        options.type() == SnapshotType.MEMORY
            ? Capability.MEMORY_CHECKPOINT
            : Capability.FILESYSTEM_CHECKPOINT;
    if (!runtime.capabilities().contains(needed)) {
      throw new UnsupportedByRuntimeException(
          "runtime " + runtime.name() + " cannot take " + options.type() + " checkpoints");
    }
    SnapshotManifest done;
    try (var held = locks.lock(id.value())) {
      SandboxRecord rec = readRecord(id);
      requireState(rec, "checkpoint", SandboxState.RUNNING);
      SnapshotId snapId = SnapshotId.random();
      Path dir = state.snapshotDir(snapId);
      SnapshotManifest m =
          new SnapshotManifest(
              SnapshotManifest.FORMAT,
              SnapshotManifest.VERSION,
              snapId,
              options.type(),
              SnapshotStatus.IN_PROGRESS,
              runtime.name(),
              runtime.version(),
              id,
              rec.sourceSnapshot(),
              rec.image(),
              imageHash(rec.image()),
              options.type() == SnapshotType.MEMORY
                  ? rec.rootfs()
                  : dir.resolve("rootfs").toString(),
              rec.resources(),
              rec.network(),
              rec.env(),
              options.labels(),
              Instant.now(),
              0,
              "",
              List.of(),
              "");
      Json.write(state.snapshotManifest(snapId), m);
      writeRecord(rec.withState(SandboxState.SNAPSHOTTING, ""));
      RuntimeSandbox rs = runtimeSandbox(rec);
      try {
        if (options.type() == SnapshotType.MEMORY) {
          Path data = dir.resolve("memory");
          Files.createDirectories(data);
          runtime.checkpoint(rs, data);
          // runsc stops a checkpointed sandbox; bring the same sandbox back from its own image
          // (it is the same state the forks get), unless the user asked to stop it.
          safeDestroy(id);
          if (!options.stopAfter()) {
            runtime.restore(rs, data);
          }
        } else {
          FilesystemSnapshots.take(
              runtime,
              rs,
              dir,
              Path.of(rec.rootfs()),
              (long) rec.resources().diskMb() * 1024 * 1024);
        }
        done =
            m.completed(
                FileTrees.size(
                    dir.resolve(m.type() == SnapshotType.MEMORY ? "memory" : "changes.tar")),
                "",
                List.of());
        List<SnapshotManifest.FileDigest> digests = FileTrees.digest(dir, dataFiles(m.type()));
        done =
            done.completed(
                digests.stream().mapToLong(SnapshotManifest.FileDigest::size).sum(),
                FileTrees.combined(digests),
                digests);
        Json.write(state.snapshotManifest(snapId), done);
        verifiedSnapshots.add(snapId.value());
      } catch (RuntimeException | IOException e) {
        Json.write(state.snapshotManifest(snapId), m.failed(String.valueOf(e.getMessage())));
        journal.record(
            "checkpoint-failed",
            Map.of(
                "sandbox",
                id.value(),
                "snapshot",
                snapId.value(),
                "why",
                String.valueOf(e.getMessage())));
        boolean alive = runtime.isAlive(rs);
        if (alive) {
          writeRecord(rec.withState(SandboxState.RUNNING, ""));
        } else {
          safeDestroy(id);
          cancelTtl(id);
          cleanSandboxDir(id);
          writeRecord(
              rec.withState(
                  SandboxState.FAILED, "lost during a failed checkpoint: " + e.getMessage()));
        }
        throw new ForkyardException(
            ErrorCode.INTERNAL,
            "checkpoint of "
                + id
                + " failed: "
                + e.getMessage()
                + (alive ? " (the sandbox is still running)" : " (the sandbox was lost)"),
            e);
      }
      if (options.stopAfter()) {
        cancelTtl(id);
        // A MEMORY checkpoint already stopped the container; a FILESYSTEM one leaves it running.
        safeDestroy(id);
        cleanSandboxDir(id);
        writeRecord(rec.withState(SandboxState.TERMINATED, "stopped after checkpoint " + snapId));
      } else {
        writeRecord(rec.withState(SandboxState.RUNNING, ""));
      }
      journal.record(
          "checkpoint",
          Map.of(
              "sandbox",
              id.value(),
              "snapshot",
              snapId.value(),
              "type",
              options.type().name(),
              "bytes",
              done.sizeBytes()));
    }
    return done.info();
  }

  private static List<String> dataFiles(SnapshotType type) {
    return type == SnapshotType.MEMORY ? List.of("memory") : List.of("changes.tar");
  }

  private String imageHash(String image) {
    return images.find(image).map(ImageInfo::recipeHash).orElse("");
  }

  @Override
  public SnapshotInfo snapshot(SnapshotId id) {
    return readManifest(id).info();
  }

  @Override
  public List<SnapshotInfo> snapshots() {
    List<SnapshotInfo> out = new ArrayList<>();
    try (Stream<Path> dirs = Files.list(state.snapshotsDir())) {
      for (Path d : dirs.toList()) {
        try {
          out.add(readManifest(SnapshotId.of(d.getFileName().toString())).info());
        } catch (ForkyardException e) {
          // not a snapshot directory, or removed concurrently
        }
      }
    } catch (IOException e) {
      throw new ForkyardException(
          ErrorCode.INTERNAL, "cannot list snapshots: " + e.getMessage(), e);
    }
    out.sort(Comparator.comparing(SnapshotInfo::createdAt));
    return out;
  }

  @Override
  public void deleteSnapshot(SnapshotId id) {
    try (var held = locks.lock(id.value())) {
      SnapshotManifest m = readManifest(id);
      if (m.status() == SnapshotStatus.IN_PROGRESS
          && Duration.between(m.createdAt(), Instant.now()).compareTo(PENDING_GRACE) < 0) {
        throw new InvalidStateException(
            "snapshot " + id + " is still IN_PROGRESS; delete it when it has finished");
      }
      if (m.type() == SnapshotType.FILESYSTEM) {
        String rootfs = state.snapshotDir(id).resolve("rootfs").toString();
        List<String> users =
            rootfsUsers(rootfs).stream().filter(u -> !u.equals(id.value())).toList();
        if (!users.isEmpty()) {
          throw new InvalidStateException(
              "snapshot "
                  + id
                  + " is the root filesystem of "
                  + users
                  + "; delete or terminate those first");
        }
      }
      FileTrees.deleteRecursively(state.snapshotDir(id));
      verifiedSnapshots.remove(id.value());
      journal.record("snapshot-deleted", Map.of("snapshot", id.value()));
    }
    locks.forget(id.value());
    if (ownsImages) {
      images.pruneUnusedTrees();
    }
  }

  private SnapshotManifest readManifest(SnapshotId id) {
    Path file = state.snapshotManifest(id);
    if (!Files.isRegularFile(file)) {
      throw new NotFoundException("no snapshot " + id + " (list them with: forkyard snapshot ls)");
    }
    SnapshotManifest m;
    try {
      m = Json.read(file, SnapshotManifest.class);
    } catch (RuntimeException e) {
      throw new ForkyardException(
          ErrorCode.SNAPSHOT_CORRUPT,
          "snapshot "
              + id
              + " has an unreadable manifest ("
              + e.getMessage()
              + "); delete it with: forkyard snapshot rm "
              + id);
    }
    if (!SnapshotManifest.FORMAT.equals(m.format()) || m.version() != SnapshotManifest.VERSION) {
      throw new ForkyardException(
          ErrorCode.SNAPSHOT_CORRUPT,
          "snapshot "
              + id
              + " has format "
              + m.format()
              + " v"
              + m.version()
              + ", this forkyard reads "
              + SnapshotManifest.FORMAT
              + " v"
              + SnapshotManifest.VERSION);
    }
    return m;
  }

  /** A snapshot that can be forked now: COMPLETED and with all its files intact. */
  private SnapshotManifest readySnapshot(SnapshotId id) {
    SnapshotManifest m = readManifest(id);
    if (m.status() == SnapshotStatus.IN_PROGRESS) {
      throw new SnapshotNotReadyException(
          "snapshot " + id + " is still IN_PROGRESS; wait until" + " its checkpoint has returned");
    }
    if (m.status() == SnapshotStatus.FAILED) {
      throw new SnapshotNotReadyException(
          "snapshot "
              + id
              + " FAILED ("
              + m.message()
              + ") and cannot be forked; take a new checkpoint");
    }
    if (!m.runtime().equals(runtime.name())) {
      throw new InvalidRequestException(
          "snapshot "
              + id
              + " was taken with runtime "
              + m.runtime()
              + ", this service runs "
              + runtime.name());
    }
    Path dir = state.snapshotDir(id);
    Path rootfs = Path.of(m.rootfs());
    if (!Files.isDirectory(rootfs)) {
      throw new ForkyardException(
          ErrorCode.SNAPSHOT_CORRUPT,
          "snapshot "
              + id
              + " needs root filesystem "
              + rootfs
              + ", which is gone (image deleted or rebuilt?); take a new checkpoint");
    }
    // Sizes on every fork (cheap), full hashes once per process per snapshot.
    boolean full = !verifiedSnapshots.contains(id.value());
    String problem = FileTrees.verify(dir, m.files(), full);
    if (problem != null) {
      throw new ForkyardException(
          ErrorCode.SNAPSHOT_CORRUPT,
          "snapshot "
              + id
              + " is damaged: "
              + problem
              + "; delete it (forkyard snapshot rm "
              + id
              + ") and checkpoint again");
    }
    verifiedSnapshots.add(id.value());
    return m;
  }

  /**
   * Ids of the snapshots that restore on top of root filesystem {@code rootfs} and of the sandboxes
   * not yet final that run on it: while there are any, it must stay (an image rebuild keeps such
   * trees, see {@link ImageStore}; deleting the image or snapshot is refused).
   */
  private List<String> rootfsUsers(String rootfs) {
    List<String> users = new ArrayList<>();
    for (SnapshotInfo s : snapshots()) {
      if (readManifest(s.id()).rootfs().equals(rootfs)) {
        users.add(s.id().value());
      }
    }
    for (SandboxInfo s : list()) {
      if (!s.state().isFinal() && readRecord(s.id()).rootfs().equals(rootfs)) {
        users.add(s.id().value());
      }
    }
    return users;
  }

  // ------------------------------------------------------------------ suspend / resume

  @Override
  public void suspend(SandboxId id) {
    if (!runtime.capabilities().contains(Capability.SUSPEND)) {
      throw new UnsupportedByRuntimeException(
          "runtime " + runtime.name() + " cannot suspend sandboxes");
    }
    try (var held = locks.lock(id.value())) {
      SandboxRecord rec = readRecord(id);
      requireState(rec, "suspend", SandboxState.RUNNING);
      Path img = state.sandboxDir(id).resolve("suspended");
      try {
        FileTrees.deleteRecursively(img);
        Files.createDirectories(img);
        runtime.checkpoint(runtimeSandbox(rec), img);
      } catch (IOException | RuntimeException e) {
        if (!runtime.isAlive(runtimeSandbox(rec))) {
          markDeadLocked(rec, "lost during suspend: " + e.getMessage());
        }
        throw new ForkyardException(
            ErrorCode.INTERNAL, "suspend of " + id + " failed: " + e.getMessage(), e);
      }
      safeDestroy(id);
      writeRecord(rec.withState(SandboxState.SUSPENDED, ""));
      journal.record("suspend", Map.of("sandbox", id.value()));
    }
  }

  @Override
  public void resume(SandboxId id) {
    try (var held = locks.lock(id.value())) {
      SandboxRecord rec = readRecord(id);
      requireState(rec, "resume", SandboxState.SUSPENDED);
      Path img = state.sandboxDir(id).resolve("suspended");
      try {
        runtime.restore(runtimeSandbox(rec), img);
      } catch (RuntimeException e) {
        safeDestroy(id);
        throw new ForkyardException(
            ErrorCode.INTERNAL,
            "resume of "
                + id
                + " failed: "
                + e.getMessage()
                + " (it stays SUSPENDED; try again or terminate it)",
            e);
      }
      FileTrees.deleteRecursively(img);
      writeRecord(rec.withState(SandboxState.RUNNING, ""));
      journal.record("resume", Map.of("sandbox", id.value()));
    }
  }

  /** {@link #markDeadLocked} and the journal line that says so. */
  private void failLocked(SandboxRecord rec, String why) {
    markDeadLocked(rec, why);
    journal.record("failed", Map.of("sandbox", rec.id().value(), "why", why));
  }

  private void markDeadLocked(SandboxRecord rec, String why) {
    cancelTtl(rec.id());
    safeDestroy(rec.id());
    cleanSandboxDir(rec.id());
    writeRecord(rec.withState(SandboxState.FAILED, why));
  }

  // ------------------------------------------------------------------ images

  @Override
  public List<ImageInfo> images() {
    return images.list();
  }

  @Override
  public ImageInfo buildImage(ImageRecipe recipe, ProgressListener listener) {
    return images.ensure(recipe, listener == null ? ProgressListener.NONE : listener);
  }

  @Override
  public void deleteImage(String name) {
    Path rootfs = images.rootfs(name);
    List<String> users = rootfsUsers(rootfs.toString());
    if (!users.isEmpty()) {
      throw new InvalidStateException(
          "image " + name + " is in use by " + users + "; terminate or delete those first");
    }
    images.delete(name);
  }

  private ImageInfo ensureImage(String name) {
    if (images.recipe(name).isPresent()) {
      return images.ensure(name, progress);
    }
    return images
        .find(name)
        .orElseThrow(
            () ->
                new NotFoundException(
                    "no image named '"
                        + name
                        + "'; build it first with: forkyard image build "
                        + name));
  }

  // ------------------------------------------------------------------ TTL and recovery

  private void scheduleTtl(SandboxRecord rec) {
    long delayMs = Math.max(0, Duration.between(Instant.now(), rec.expiresAt()).toMillis());
    ScheduledFuture<?> old =
        ttls.put(
            rec.id(), ttlTimer.schedule(() -> expire(rec.id()), delayMs, TimeUnit.MILLISECONDS));
    if (old != null) {
      old.cancel(false);
    }
    if (!reaperCommand.isEmpty()) {
      // Also now, not only when this process exits: a CLI call killed with SIGKILL hands nothing
      // over. Cheap when the state directory's watchdog already wakes in time (the usual case).
      ensureWatchdog(rec.expiresAt(), reaperCommand);
    }
  }

  /**
   * Makes sure one detached watchdog process of this state directory wakes at {@code wakeAt} or
   * earlier: it sleeps, then runs the reaper command, which opens the service (terminating what has
   * expired) and, on closing, hands the remaining TTLs to the next watchdog. So TTLs hold after the
   * process that set them has exited, with one sleeping watchdog per state directory rather than
   * one per sandbox (a 50-agent run would otherwise start 100 JVMs at once when they expire).
   */
  private boolean ensureWatchdog(Instant wakeAt, List<String> reaperCommand) {
    Path file = state.root().resolve("ttl-watchdog");
    try (var held = locks.lock("ttl-watchdog")) {
      Instant now = Instant.now();
      Optional<ProcessHandle> current = Optional.empty();
      try {
        String[] f = Files.readString(file).strip().split(" ");
        long pid = Long.parseLong(f[0]);
        Instant wakes = Instant.parse(f[1]);
        current = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
        if (current.isPresent() && wakes.isAfter(now) && !wakes.isAfter(wakeAt)) {
          return false; // a watchdog already wakes in time
        }
      } catch (IOException | RuntimeException e) {
        // none yet, or unreadable: start one
      }
      long secs = Math.max(0, Duration.between(now, wakeAt).toMillis()) / 1000 + 1;
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  "setsid",
                  "/bin/sh",
                  "-c",
                  "sleep " + secs + "; exec \"$@\"",
                  // early in the command line, so ps (and tests) can tell whose watchdog it is
                  "forkyard-ttl-watchdog:" + state.root().toAbsolutePath()));
      cmd.addAll(reaperCommand);
      Process p =
          new ProcessBuilder(cmd)
              .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      Path tmp = file.resolveSibling("ttl-watchdog.tmp");
      Files.writeString(tmp, p.pid() + " " + now.plusSeconds(secs) + "\n");
      Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      // The one it replaces would wake later, or is already reaping: a sleeping one is redundant.
      current
          .filter(h -> h.info().command().map(c -> c.endsWith("sh")).orElse(false))
          .ifPresent(ProcessHandle::destroy);
      return true;
    } catch (IOException e) {
      LOG.warn("cannot start a TTL watchdog: {}", e.getMessage());
      return false;
    }
  }

  private void cancelTtl(SandboxId id) {
    ScheduledFuture<?> f = ttls.remove(id);
    if (f != null) {
      f.cancel(false);
    }
  }

  private void expire(SandboxId id) {
    try {
      SandboxRecord rec = readRecord(id);
      if (!rec.state().isFinal() && !Instant.now().isBefore(rec.expiresAt())) {
        finish(
            id,
            SandboxState.TIMED_OUT,
            "TTL of "
                + Duration.between(rec.createdAt(), rec.expiresAt()).toSeconds()
                + " s expired",
            false);
      }
    } catch (RuntimeException e) {
      LOG.warn("expiring {} failed: {}", id, e.getMessage());
    }
  }

  /**
   * Brings the state directory in line with the host: expired sandboxes are terminated, sandboxes
   * whose processes are gone are marked FAILED, runtime resources without a live record are
   * destroyed, and running ones get their TTL timer again.
   */
  public synchronized RecoveryReport recover() {
    int expired = 0;
    int lost = 0;
    int adopted = 0;
    int orphans = 0;
    Set<SandboxId> live;
    try {
      live = runtime.liveSandboxes();
    } catch (RuntimeException e) {
      LOG.debug("runtime cannot list sandboxes ({}); skipping recovery", e.getMessage());
      return new RecoveryReport(0, 0, 0, 0);
    }
    Map<SandboxId, SandboxRecord> records = new HashMap<>();
    Instant now = Instant.now();
    for (SandboxId id : recordIds()) {
      SandboxRecord rec;
      try {
        rec = readRecord(id);
      } catch (RuntimeException e) {
        continue;
      }
      records.put(id, rec);
      if (rec.state().isFinal()) {
        if (Duration.between(rec.updatedAt(), now).compareTo(FINAL_RECORD_KEEP) > 0) {
          FileTrees.deleteRecursively(state.sandboxDir(id));
          locks.forget(id.value());
        }
        continue;
      }
      if (!now.isBefore(rec.expiresAt())) {
        finish(id, SandboxState.TIMED_OUT, "TTL expired (found at recovery)", false);
        expired++;
        continue;
      }
      boolean young = Duration.between(rec.updatedAt(), now).compareTo(PENDING_GRACE) < 0;
      switch (rec.state()) {
        case RUNNING -> {
          if (live.contains(id)) {
            scheduleTtlQuietly(rec);
            adopted++;
          } else if (!young || !ProcessHandle.of(rec.ownerPid()).isPresent()) {
            markDead(rec, "its processes are gone (host restart or crash); its state is lost");
            lost++;
          }
        }
        case SUSPENDED -> scheduleTtlQuietly(rec);
        case PENDING, SNAPSHOTTING -> {
          if (recoverInterrupted(rec)) {
            lost++;
          }
        }
        default -> {}
      }
    }
    for (SandboxId id : live) {
      SandboxRecord rec = records.get(id);
      if (rec == null || rec.state().isFinal() || rec.state() == SandboxState.SUSPENDED) {
        safeDestroy(id);
        orphans++;
      }
    }
    if (ownsImages) {
      images.pruneUnusedTrees();
    }
    RecoveryReport report = new RecoveryReport(adopted, expired, lost, orphans);
    if (expired + lost + orphans > 0) {
      journal.record(
          "recover",
          Map.of("adopted", adopted, "expired", expired, "lost", lost, "orphans", orphans));
    }
    if (adopted + expired + lost + orphans > 0) {
      LOG.info("recovery: {}", report);
    }
    return report;
  }

  /**
   * Marks FAILED a sandbox left PENDING or SNAPSHOTTING by a process that died in the middle (e.g.
   * a daemon killed during a create or a checkpoint); its runtime state is unknown, so it is
   * destroyed, and a snapshot it was writing is marked FAILED. The creator writes PENDING before it
   * takes the sandbox's lock, so for PENDING only the owner's death tells; a checkpoint holds the
   * lock until it has written its outcome, and the process taking it need not be the owner, so for
   * SNAPSHOTTING a free lock tells. Returns whether it marked the sandbox.
   */
  private boolean recoverInterrupted(SandboxRecord rec) {
    if (rec.state() == SandboxState.PENDING
        && ProcessHandle.of(rec.ownerPid()).map(ProcessHandle::isAlive).orElse(false)) {
      return false;
    }
    Optional<HostLock> held = locks.tryLock(rec.id().value());
    if (held.isEmpty()) {
      return false;
    }
    try (var h = held.get()) {
      SandboxRecord now = readRecord(rec.id());
      if (now.state() != rec.state()) {
        return false;
      }
      String why = "interrupted while " + now.state() + " (the process doing it died)";
      if (now.state() == SandboxState.SNAPSHOTTING) {
        failSnapshotsInProgress(now.id(), why);
      }
      failLocked(now, why);
      return true;
    }
  }

  private void failSnapshotsInProgress(SandboxId source, String why) {
    for (SnapshotInfo s : snapshots()) {
      if (s.status() == SnapshotStatus.IN_PROGRESS && s.sourceSandbox().equals(source)) {
        Json.write(state.snapshotManifest(s.id()), readManifest(s.id()).failed(why));
      }
    }
  }

  /**
   * For a long-lived process about to exit, such as the daemon on SIGTERM: the sandboxes whose TTL
   * this service enforces outlive it, so their TTLs are handed to the state directory's detached
   * watchdog, which runs {@code reaperCommand} (opening the state directory terminates what has
   * expired, and closing it hands the rest on) when the earliest TTL ends. A successor that opens
   * the state directory earlier adopts them with their TTLs. {@link #close()} does this too when
   * the service was built with a reaper command. Returns how many sandboxes were handed over.
   */
  public int handOverTtls(List<String> reaperCommand) {
    if (reaperCommand.isEmpty()) {
      return 0;
    }
    Optional<Instant> earliest = Optional.empty();
    int live = 0;
    for (SandboxId id : List.copyOf(ttls.keySet())) {
      try {
        SandboxRecord rec = readRecord(id);
        if (!rec.state().isFinal()) {
          live++;
          if (earliest.isEmpty() || rec.expiresAt().isBefore(earliest.get())) {
            earliest = Optional.of(rec.expiresAt());
          }
        }
      } catch (RuntimeException e) {
        // removed concurrently
      }
    }
    if (earliest.isEmpty()) {
      return 0;
    }
    boolean started = ensureWatchdog(earliest.get(), reaperCommand);
    journal.record("ttl-handover", Map.of("sandboxes", live, "watchdogStarted", started));
    return live;
  }

  private void scheduleTtlQuietly(SandboxRecord rec) {
    long delayMs = Math.max(0, Duration.between(Instant.now(), rec.expiresAt()).toMillis());
    ttls.computeIfAbsent(
        rec.id(), k -> ttlTimer.schedule(() -> expire(rec.id()), delayMs, TimeUnit.MILLISECONDS));
  }

  /** What {@link #recover()} found. */
  public record RecoveryReport(int adopted, int expired, int lost, int orphansReaped) {}

  // ------------------------------------------------------------------ records

  private List<SandboxId> recordIds() {
    try (Stream<Path> dirs = Files.list(state.sandboxesDir())) {
      List<SandboxId> ids = new ArrayList<>();
      for (Path d : dirs.toList()) {
        String n = d.getFileName().toString();
        if (n.startsWith("sb-") && Files.isRegularFile(d.resolve("sandbox.json"))) {
          try {
            ids.add(SandboxId.of(n));
          } catch (InvalidRequestException ignored) {
            // not ours
          }
        }
      }
      return ids;
    } catch (IOException e) {
      throw new ForkyardException(
          ErrorCode.INTERNAL, "cannot list sandboxes: " + e.getMessage(), e);
    }
  }

  private SandboxRecord readRecord(SandboxId id) {
    Objects.requireNonNull(id, "id");
    Path file = state.sandboxRecord(id);
    if (!Files.isRegularFile(file)) {
      throw new NotFoundException("no sandbox " + id + " (list them with: forkyard sandbox ls)");
    }
    try {
      return Json.read(file, SandboxRecord.class);
    } catch (RuntimeException e) {
      throw new ForkyardException(
          ErrorCode.INTERNAL, "sandbox record " + file + " is unreadable: " + e.getMessage());
    }
  }

  private void writeRecord(SandboxRecord rec) {
    Json.write(state.sandboxRecord(rec.id()), rec);
  }

  private SandboxRecord requireRunning(SandboxId id, String op) {
    SandboxRecord rec = readRecord(id);
    requireState(rec, op, SandboxState.RUNNING);
    return rec;
  }

  private static void requireState(SandboxRecord rec, String op, SandboxState... allowed) {
    for (SandboxState s : allowed) {
      if (rec.state() == s) {
        return;
      }
    }
    String hint =
        switch (rec.state()) {
          case SUSPENDED -> "; resume it first";
          case TERMINATED, TIMED_OUT, FAILED ->
              "; create a new sandbox"
                  + (rec.message().isEmpty() ? "" : " (" + rec.message() + ")");
          case SNAPSHOTTING, PENDING -> "; wait until it is RUNNING";
          default -> "";
        };
    throw new InvalidStateException(
        op
            + " needs sandbox "
            + rec.id()
            + " to be "
            + (allowed.length == 1 ? allowed[0] : List.of(allowed))
            + ", but it is "
            + rec.state()
            + hint);
  }

  private RuntimeSandbox runtimeSandbox(SandboxRecord rec) {
    return new RuntimeSandbox(
        rec.id(),
        state.sandboxDir(rec.id()),
        Path.of(rec.rootfs()),
        rec.resources(),
        rec.network(),
        rec.hostname(),
        rec.env());
  }

  private void ensureOpen() {
    if (closed) {
      throw new InvalidStateException("this SandboxService is closed");
    }
  }

  /**
   * Stops this service's timers. Sandboxes keep running (they have TTLs and other processes may use
   * them); terminate them first if they should not.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    ttlTimer.shutdownNow();
    workers.shutdown();
    if (!reaperCommand.isEmpty()) {
      handOverTtls(reaperCommand);
    }
  }

  /** Options for {@link SandboxService}. */
  public static final class Builder {
    private Path stateDir;
    private Path imagesDir;
    private SandboxRuntime runtime;
    private String runtimeName = "gvisor";
    private ProgressListener progress = ProgressListener.NONE;
    private long maxOutputBytes = DEFAULT_MAX_OUTPUT_BYTES;
    private long maxFileBytes = DEFAULT_MAX_FILE_BYTES;
    private Duration livenessInterval = Duration.ofSeconds(10);
    private boolean recover = true;
    private List<String> reaperCommand = List.of();

    private Builder() {}

    public Builder stateDir(Path dir) {
      this.stateDir = dir;
      return this;
    }

    /**
     * Where images live, when not in the state directory; lets several state directories (tests,
     * users) share one set of built images.
     */
    public Builder imagesDir(Path dir) {
      this.imagesDir = dir;
      return this;
    }

    public Builder runtime(SandboxRuntime r) {
      this.runtime = r;
      return this;
    }

    public Builder runtime(String name) {
      this.runtimeName = name;
      return this;
    }

    /** Told about slow steps such as building the default image on first use. */
    public Builder progress(ProgressListener listener) {
      this.progress = listener;
      return this;
    }

    public Builder maxOutputBytes(long bytes) {
      this.maxOutputBytes = bytes;
      return this;
    }

    public Builder maxFileBytes(long bytes) {
      this.maxFileBytes = bytes;
      return this;
    }

    /** Whether opening reaps expired and orphaned sandboxes (default true). */
    /**
     * How often running sandboxes of this process are checked for having died while idle (then
     * marked FAILED with the cause); default 10 s, {@link Duration#ZERO} turns it off.
     */
    public Builder livenessInterval(Duration interval) {
      if (interval == null || interval.isNegative()) {
        throw new InvalidRequestException("liveness interval must be zero or positive");
      }
      this.livenessInterval = interval;
      return this;
    }

    public Builder recover(boolean on) {
      this.recover = on;
      return this;
    }

    /**
     * For short-lived processes such as CLI calls: a command that opens this state directory (e.g.
     * {@code forkyard --state-dir D internal reap}); a detached watchdog runs it when a sandbox's
     * TTL ends, so the TTL holds after this process has exited.
     */
    public Builder reaperCommand(List<String> command) {
      this.reaperCommand = List.copyOf(command);
      return this;
    }

    public SandboxService build() {
      return new SandboxService(this);
    }
  }
}
