package io.forkyard.server;

import io.forkyard.api.SandboxInfo;
import io.forkyard.core.SandboxService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real embedded service (gVisor) on a private state directory under /tmp, sharing the built
 * images of the default state directory (or {@code -Dforkyard.test.images}). Closing it terminates
 * every sandbox it still has and deletes the state directory.
 */
final class RealService implements AutoCloseable {
  final Path stateDir;
  final SandboxService service;

  private RealService(Path stateDir) {
    this.stateDir = stateDir;
    this.service = SandboxService.builder().stateDir(stateDir).imagesDir(imagesDir()).build();
  }

  static RealService start() throws IOException {
    Assumptions.assumeFalse(
        Boolean.getBoolean("forkyard.skipIntegration"),
        "integration tests disabled with -Dforkyard.skipIntegration=true");
    return new RealService(Files.createTempDirectory(Path.of("/tmp"), "fy-server-it-"));
  }

  static Path imagesDir() {
    String p = System.getProperty("forkyard.test.images", "");
    return p.isBlank() ? SandboxService.defaultStateDir().resolve("images") : Path.of(p);
  }

  /** Sandboxes not in a final state; a test run must leave none. */
  long live() {
    return service.list().stream().filter(s -> !s.state().isFinal()).count();
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
      try (Stream<Path> s = Files.walk(stateDir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException ignored) {
        // temp dir: best effort
      }
    }
  }
}
