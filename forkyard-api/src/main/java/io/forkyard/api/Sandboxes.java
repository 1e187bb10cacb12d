package io.forkyard.api;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The forkyard SDK: every operation on sandboxes, snapshots and images. Two implementations behave
 * the same: the embedded service (in this process) and the remote client (HTTP to {@code forkyard
 * serve}). Every method throws a {@link ForkyardException} subtype with a message telling the user
 * what to do.
 */
public interface Sandboxes extends AutoCloseable {

  // ---- sandboxes

  /** Creates and starts a sandbox from an image, or forks one from a COMPLETED snapshot. */
  Sandbox create(SandboxSpec spec);

  /**
   * Forks {@code count} sandboxes from the snapshot named in {@code spec} at once. Returns one
   * result per copy, in index order; one copy failing does not stop the others.
   */
  List<ForkResult> fork(SandboxSpec spec, int count);

  default List<ForkResult> fork(SnapshotId snapshot, int count) {
    return fork(SandboxSpec.ofSnapshot(snapshot), count);
  }

  /** A handle for an existing sandbox; throws {@link NotFoundException} when unknown. */
  default Sandbox sandbox(SandboxId id) {
    info(id);
    return new Sandbox(this, id);
  }

  SandboxInfo info(SandboxId id);

  /** All sandboxes this service knows, final ones included until they are removed. */
  List<SandboxInfo> list();

  /** Stops the sandbox and frees everything it held. Allowed in every non-final state. */
  void terminate(SandboxId id);

  // ---- commands and files (allowed only while RUNNING)

  default CommandResult exec(SandboxId id, Command command) {
    return exec(id, command, OutputSink.DISCARD);
  }

  /** Runs a command; output also goes to {@code sink} as it is produced. */
  CommandResult exec(SandboxId id, Command command, OutputSink sink);

  /** Writes a whole file, creating parent directories. Paths are absolute sandbox paths. */
  void writeFile(SandboxId id, String path, byte[] content);

  byte[] readFile(SandboxId id, String path);

  List<FileEntry> listDirectory(SandboxId id, String path);

  /** Deletes a file or an empty directory. */
  void deleteFile(SandboxId id, String path);

  // ---- snapshots

  /**
   * Checkpoints a RUNNING sandbox. Returns when the snapshot is COMPLETED (or throws when it
   * FAILED). The sandbox keeps running unless {@link CheckpointOptions#stopAfter()}.
   */
  SnapshotInfo checkpoint(SandboxId id, CheckpointOptions options);

  SnapshotInfo snapshot(SnapshotId id);

  List<SnapshotInfo> snapshots();

  /** Deletes a snapshot; sandboxes already forked from it keep running. */
  void deleteSnapshot(SnapshotId id);

  // ---- suspend / resume

  /** Saves a RUNNING sandbox's whole state to disk and stops it: state SUSPENDED. */
  void suspend(SandboxId id);

  /** Brings a SUSPENDED sandbox back under the same id: state RUNNING. */
  void resume(SandboxId id);

  // ---- images

  List<ImageInfo> images();

  /** Builds (or returns the cached) image for a recipe. Slow the first time; reports progress. */
  ImageInfo buildImage(ImageRecipe recipe, ProgressListener progress);

  void deleteImage(String name);

  /** Releases this client. The embedded service keeps sandboxes running (they have TTLs). */
  @Override
  void close();

  // ---- async variants: run on virtual threads

  default CompletableFuture<Sandbox> createAsync(SandboxSpec spec) {
    return Async.run(() -> create(spec));
  }

  default CompletableFuture<List<ForkResult>> forkAsync(SandboxSpec spec, int count) {
    return Async.run(() -> fork(spec, count));
  }

  default CompletableFuture<CommandResult> execAsync(SandboxId id, Command command) {
    return Async.run(() -> exec(id, command));
  }

  default CompletableFuture<SnapshotInfo> checkpointAsync(SandboxId id, CheckpointOptions options) {
    return Async.run(() -> checkpoint(id, options));
  }

  /** Shared executor for the async defaults. */
  final class Async {
    private static final ExecutorService VIRTUAL = Executors.newVirtualThreadPerTaskExecutor();

    private Async() {}

    public static <T> CompletableFuture<T> run(Supplier<T> work) {
      return CompletableFuture.supplyAsync(work, VIRTUAL);
    }

    public static Duration since(long startNanos) {
      return Duration.ofNanos(System.nanoTime() - startNanos);
    }
  }
}
