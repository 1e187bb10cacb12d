package io.forkyard.core;

import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SnapshotId;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * The one directory that holds all host state:
 *
 * <pre>
 * images/              built root filesystems (io.forkyard.core.image)
 * sandboxes/&lt;id&gt;/      sandbox.json + everything the runtime made for it
 * snapshots/&lt;id&gt;/      manifest.json + data (memory/ or changes.tar and rootfs/)
 * runtime/&lt;name&gt;/      the runtime's own state (e.g. runsc --root)
 * journal.log          one JSON line per lifecycle event
 * </pre>
 */
final class StateDir {
  private final Path root;

  StateDir(Path root) {
    this.root = root.toAbsolutePath().normalize();
    try {
      for (Path p :
          new Path[] {
            this.root, images(), sandboxesDir(), snapshotsDir(), root.resolve("runtime")
          }) {
        Files.createDirectories(p);
      }
      Files.setPosixFilePermissions(this.root, PosixFilePermissions.fromString("rwx------"));
    } catch (IOException e) {
      throw new ForkyardException(
          ErrorCode.INTERNAL,
          "cannot create state directory "
              + this.root
              + ": "
              + e.getMessage()
              + " (set FORKYARD_STATE_DIR or --state-dir to a writable directory)",
          e);
    }
  }

  Path root() {
    return root;
  }

  Path images() {
    return root.resolve("images");
  }

  Path sandboxesDir() {
    return root.resolve("sandboxes");
  }

  Path sandboxDir(SandboxId id) {
    return sandboxesDir().resolve(id.value());
  }

  Path sandboxRecord(SandboxId id) {
    return sandboxDir(id).resolve("sandbox.json");
  }

  Path snapshotsDir() {
    return root.resolve("snapshots");
  }

  Path snapshotDir(SnapshotId id) {
    return snapshotsDir().resolve(id.value());
  }

  Path snapshotManifest(SnapshotId id) {
    return snapshotDir(id).resolve("manifest.json");
  }

  Path runtimeDir(String runtime) {
    return root.resolve("runtime").resolve(runtime);
  }

  Path journal() {
    return root.resolve("journal.log");
  }
}
