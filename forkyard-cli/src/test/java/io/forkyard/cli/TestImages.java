package io.forkyard.cli;

import io.forkyard.core.SandboxService;
import java.nio.file.Path;

/** Built images are shared with the default state directory, so tests don't debootstrap. */
final class TestImages {
  private TestImages() {}

  static Path dir() {
    String p = System.getProperty("forkyard.test.images", "");
    return p.isBlank() ? SandboxService.defaultStateDir().resolve("images") : Path.of(p);
  }
}
