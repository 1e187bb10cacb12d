package io.forkyard.api;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * A handle on one sandbox. Closing it terminates the sandbox, so try-with-resources is the whole
 * cleanup story. Every method delegates to the {@link Sandboxes} that made it.
 */
public final class Sandbox implements AutoCloseable {
  private final Sandboxes owner;
  private final SandboxId id;

  public Sandbox(Sandboxes owner, SandboxId id) {
    this.owner = Objects.requireNonNull(owner);
    this.id = Objects.requireNonNull(id);
  }

  public SandboxId id() {
    return id;
  }

  public SandboxInfo info() {
    return owner.info(id);
  }

  public CommandResult run(Command command) {
    return owner.exec(id, command);
  }

  public CommandResult run(Command command, OutputSink sink) {
    return owner.exec(id, command, sink);
  }

  public CommandResult run(String... argv) {
    return owner.exec(id, Command.of(argv));
  }

  public CompletableFuture<CommandResult> runAsync(Command command) {
    return owner.execAsync(id, command);
  }

  public void writeFile(String path, byte[] content) {
    owner.writeFile(id, path, content);
  }

  public void writeFile(String path, String content) {
    owner.writeFile(id, path, content.getBytes(StandardCharsets.UTF_8));
  }

  public byte[] readFile(String path) {
    return owner.readFile(id, path);
  }

  public String readString(String path) {
    return new String(owner.readFile(id, path), StandardCharsets.UTF_8);
  }

  public List<FileEntry> listDirectory(String path) {
    return owner.listDirectory(id, path);
  }

  public void deleteFile(String path) {
    owner.deleteFile(id, path);
  }

  /** A MEMORY checkpoint; the sandbox keeps running. */
  public SnapshotInfo checkpoint() {
    return owner.checkpoint(id, CheckpointOptions.MEMORY);
  }

  public SnapshotInfo checkpoint(SnapshotType type) {
    return owner.checkpoint(id, CheckpointOptions.of(type));
  }

  public SnapshotInfo checkpoint(CheckpointOptions options) {
    return owner.checkpoint(id, options);
  }

  public void suspend() {
    owner.suspend(id);
  }

  public void resume() {
    owner.resume(id);
  }

  public void terminate() {
    owner.terminate(id);
  }

  /** Terminates the sandbox; a sandbox already gone is not an error here. */
  @Override
  public void close() {
    try {
      owner.terminate(id);
    } catch (NotFoundException | InvalidStateException ignored) {
      // already terminated or removed: nothing left to free
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Sandbox s && s.id.equals(id) && s.owner == owner;
  }

  @Override
  public int hashCode() {
    return id.hashCode();
  }

  @Override
  public String toString() {
    return "Sandbox[" + id + "]";
  }
}
