package io.forkyard.tests;

import io.forkyard.api.SandboxInfo;
import io.forkyard.core.SandboxService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real embedded service on a private state directory, sharing the built images of the default
 * state directory (or {@code -Dforkyard.test.images}) so tests don't each debootstrap. Closing it
 * terminates every sandbox it still has and deletes the state directory.
 */
final class RealService implements AutoCloseable {
  final Path stateDir;
  final SandboxService service;

  private RealService(Path stateDir) {
    this.stateDir = stateDir;
    this.service = open();
  }

  static RealService start() throws IOException {
    Assumptions.assumeFalse(
        Boolean.getBoolean("forkyard.skipIntegration"),
        "integration tests disabled with -Dforkyard.skipIntegration=true");
    Path dir = Files.createTempDirectory(Path.of("/tmp"), "fy-it-");
    return new RealService(dir);
  }

  static Path imagesDir() {
    String p = System.getProperty("forkyard.test.images", "");
    return p.isBlank() ? SandboxService.defaultStateDir().resolve("images") : Path.of(p);
  }

  /** Another service over the same state directory, as a restarted process would open it. */
  SandboxService open() {
    return SandboxService.builder().stateDir(stateDir).imagesDir(imagesDir()).build();
  }

  @Override
  public void close() {
    try {
      for (SandboxInfo s : service.list()) {
        if (!s.state().isFinal()) {
          try {
            service.terminate(s.id());
          } catch (RuntimeException ignored) {
            // best effort: keep cleaning the others
          }
        }
      }
    } finally {
      service.close();
      deleteTree(stateDir);
    }
  }

  static void deleteTree(Path root) {
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // temp dir: best effort
    }
  }
}
