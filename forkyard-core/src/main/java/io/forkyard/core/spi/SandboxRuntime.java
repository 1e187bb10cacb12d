package io.forkyard.core.spi;

import io.forkyard.api.Command;
import io.forkyard.api.OutputSink;
import io.forkyard.api.SandboxId;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * The isolation technology behind sandboxes. Found by {@link java.util.ServiceLoader}; the service
 * calls it only in the states named on each method and serializes calls per sandbox (but calls for
 * different sandboxes come concurrently). Every host resource a runtime creates carries the sandbox
 * id so that {@link #liveSandboxes()} can find orphans after a crash.
 */
public interface SandboxRuntime {

  /** Short name used in specs, snapshots and docs, e.g. {@code gvisor}. */
  String name();

  /** Called once before any other call. {@code stateDir} is the runtime's own directory. */
  void init(Path stateDir);

  /**
   * Checks the host tools this runtime needs. Throws {@link
   * io.forkyard.api.RuntimeUnavailableException} whose message says exactly how to fix it (e.g.
   * "apt-get install runsc").
   */
  void checkAvailable();

  /** Version string(s) of the host tools, for benchmarks and snapshot manifests. */
  String version();

  Set<Capability> capabilities();

  /** Boots a new sandbox from {@code sandbox.rootfs()}. On return, commands can run. */
  void start(RuntimeSandbox sandbox);

  /**
   * Writes a MEMORY checkpoint of a running sandbox into the empty directory {@code imageDir}.
   * Afterwards the sandbox is stopped (not running) but not yet destroyed.
   */
  void checkpoint(RuntimeSandbox sandbox, Path imageDir);

  /**
   * Starts {@code sandbox} from a MEMORY checkpoint written by {@link #checkpoint}. The sandbox may
   * have another id and hostname than the one checkpointed, but the same rootfs and resources. On
   * return, commands can run, and the new hostname is in effect inside.
   */
  void restore(RuntimeSandbox sandbox, Path imageDir);

  /**
   * Writes a tar stream (to {@code tarFile}) of every file the sandbox created or changed relative
   * to its rootfs, for a FILESYSTEM checkpoint. The sandbox keeps running.
   */
  void exportChanges(RuntimeSandbox sandbox, Path tarFile);

  /**
   * Runs a command in a running sandbox. Output is passed to {@code sink} as it arrives and kept up
   * to {@code maxOutputBytes} per stream. The command is killed at its timeout (the result then
   * says timedOut). Never throws for a non-zero exit.
   */
  ExecResult exec(RuntimeSandbox sandbox, Command command, OutputSink sink, long maxOutputBytes);

  /** Whether the sandbox's processes are still there (false after a crash or OOM kill). */
  boolean isAlive(RuntimeSandbox sandbox);

  /**
   * Why a sandbox that is no longer alive died, when the runtime can tell, in words for the user
   * (e.g. "out of memory: ..."). Call it after {@link #isAlive} said false and before {@link
   * #destroy}, which removes the evidence.
   */
  default Optional<String> failureCause(SandboxId id) {
    return Optional.empty();
  }

  /**
   * Kills the sandbox and removes every host resource the runtime made for it. Idempotent:
   * destroying an unknown or already destroyed sandbox is not an error.
   */
  void destroy(SandboxId id);

  /** Ids of sandboxes this runtime has running on the host, for orphan reaping at start. */
  Set<SandboxId> liveSandboxes();
}
