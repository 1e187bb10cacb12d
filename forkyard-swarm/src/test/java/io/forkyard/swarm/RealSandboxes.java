package io.forkyard.swarm;

import static org.assertj.core.api.Assertions.assertThat;

import io.forkyard.api.SandboxInfo;
import io.forkyard.core.SandboxService;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A real embedded service on real gVisor, on a private state directory that shares the built images
 * of the default one (or {@code -Dforkyard.test.images}), so swarm tests don't debootstrap. Closing
 * it terminates whatever is still running and deletes the state directory.
 */
final class RealSandboxes implements AutoCloseable {
  final Path stateDir;
  final SandboxService service;

  private RealSandboxes(Path stateDir) {
    this.stateDir = stateDir;
    this.service = SandboxService.builder().stateDir(stateDir).imagesDir(imagesDir()).build();
  }

  static RealSandboxes start() throws IOException {
    Assumptions.assumeFalse(
        Boolean.getBoolean("forkyard.skipIntegration"),
        "integration tests disabled with -Dforkyard.skipIntegration=true");
    return new RealSandboxes(Files.createTempDirectory(Path.of("/tmp"), "fy-swarm-it-"));
  }

  static Path imagesDir() {
    String p = System.getProperty("forkyard.test.images", "");
    return p.isBlank() ? SandboxService.defaultStateDir().resolve("images") : Path.of(p);
  }

  /** Every sandbox record is final and runsc knows no container under this state directory. */
  void assertNothingRunning() throws Exception {
    assertNothingRunning(service.list(), stateDir);
  }

  static void assertNothingRunning(List<SandboxInfo> sandboxes, Path stateDir) throws Exception {
    assertThat(sandboxes)
        .as("sandbox records after the run")
        .isNotEmpty()
        .allSatisfy(s -> assertThat(s.state().isFinal()).as(s.id() + " " + s.state()).isTrue());
    assertThat(runscList(stateDir)).as("runsc list under " + stateDir).isEmpty();
  }

  /** The container ids runsc still has under the state directory's runsc root. */
  static List<String> runscList(Path stateDir) throws Exception {
    Path root = stateDir.resolve("runtime").resolve("gvisor").resolve("runsc");
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    Process p =
        new ProcessBuilder("runsc", "--root", root.toString(), "list", "-quiet")
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("runsc list finished").isTrue();
    assertThat(p.exitValue()).as("runsc list: " + out).isZero();
    return out.lines().filter(l -> !l.isBlank()).toList();
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
