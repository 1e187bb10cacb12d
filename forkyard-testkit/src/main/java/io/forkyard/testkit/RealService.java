package io.forkyard.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.forkyard.api.SandboxInfo;
import io.forkyard.core.SandboxService;
import java.io.File;
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
 * A real embedded service (gVisor) on a private state directory under /tmp, sharing the built
 * images of the default state directory (or {@code -Dforkyard.test.images}) so tests don't each
 * debootstrap. Skips the calling test under {@code -Dforkyard.skipIntegration=true}. Closing it
 * terminates every sandbox it still has and deletes the state directory.
 */
public final class RealService implements AutoCloseable {
  public final Path stateDir;
  public final SandboxService service;

  private RealService(Path stateDir) {
    this.stateDir = stateDir;
    this.service = open();
  }

  /** A service on a new state directory /tmp/fy-it-*. */
  public static RealService start() throws IOException {
    return start("fy-it-");
  }

  /**
   * A service on a new state directory /tmp/{@code prefix}*; the prefix tells whose directory a
   * leftover one was.
   */
  public static RealService start(String prefix) throws IOException {
    Assumptions.assumeFalse(
        Boolean.getBoolean("forkyard.skipIntegration"),
        "integration tests disabled with -Dforkyard.skipIntegration=true");
    return new RealService(Files.createTempDirectory(Path.of("/tmp"), prefix));
  }

  /** The built images tests share: {@code -Dforkyard.test.images}, else the default ones. */
  public static Path imagesDir() {
    String p = System.getProperty("forkyard.test.images", "");
    return p.isBlank() ? SandboxService.defaultStateDir().resolve("images") : Path.of(p);
  }

  /** Another service over the same state directory, as a restarted process would open it. */
  public SandboxService open() {
    return SandboxService.builder().stateDir(stateDir).imagesDir(imagesDir()).build();
  }

  /** Sandboxes not in a final state; a test run must leave none. */
  public long live() {
    return service.list().stream().filter(s -> !s.state().isFinal()).count();
  }

  /** Every sandbox record is final and runsc knows no container under this state directory. */
  public void assertNothingRunning() throws Exception {
    assertNothingRunning(service.list(), stateDir);
  }

  /**
   * There are sandbox records, every one final, and runsc knows no container under {@code
   * stateDir}.
   */
  public static void assertNothingRunning(List<SandboxInfo> sandboxes, Path stateDir)
      throws Exception {
    assertThat(sandboxes)
        .as("sandbox records after the run")
        .isNotEmpty()
        .allSatisfy(s -> assertThat(s.state().isFinal()).as(s.id() + " " + s.state()).isTrue());
    assertThat(runscList(stateDir)).as("runsc list under " + stateDir).isEmpty();
  }

  /** The container ids runsc still has under the state directory's runsc root. */
  public static List<String> runscList(Path stateDir) throws Exception {
    Path root = stateDir.resolve("runtime").resolve("gvisor").resolve("runsc");
    if (!Files.isDirectory(root)) {
      return List.of();
    }
    Process p =
        new ProcessBuilder("runsc", "--root", root.toString(), "list", "-quiet")
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
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

  /** Deletes a directory tree, best effort (temporary directories). */
  public static void deleteTree(Path root) {
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // temp dir: best effort
    }
  }
}
