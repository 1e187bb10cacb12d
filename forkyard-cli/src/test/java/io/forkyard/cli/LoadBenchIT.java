package io.forkyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkyard.api.SandboxInfo;
import io.forkyard.core.SandboxService;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The load test: {@code forkyard bench load} with 50 concurrent clients, each its own HTTP
 * connection to a daemon on 127.0.0.1 over real gVisor, one create → exec → fork → exec → terminate
 * iteration each. Asserts correctness only (no failed operation, nothing leaked, every record
 * final, no runsc container left), never time; the figures are printed for the record.
 */
@Tag("integration")
class LoadBenchIT {
  private Path stateDir;

  @BeforeEach
  void setUp() throws IOException {
    Assumptions.assumeFalse(
        Boolean.getBoolean("forkyard.skipIntegration"),
        "integration tests disabled with -Dforkyard.skipIntegration=true");
    stateDir = Files.createTempDirectory(Path.of("/tmp"), "fy-load-it-");
  }

  @AfterEach
  void tearDown() throws IOException {
    if (stateDir == null) {
      return;
    }
    try (SandboxService s = service()) {
      for (SandboxInfo info : s.list()) {
        if (!info.state().isFinal()) {
          s.terminate(info.id());
        }
      }
    } finally {
      try (Stream<Path> s = Files.walk(stateDir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void fiftyConcurrentClientsFailNothingAndLeakNothing() throws Exception {
    Path json = stateDir.resolve("load.json");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int exit =
        Main.run(
            new String[] {
              "--state-dir", stateDir.toString(),
              "--images-dir", TestImages.dir().toString(),
              "bench", "load",
              "--clients", "50",
              "--iterations", "1",
              "--deadline-secs", "600",
              "--json", json.toString()
            },
            new ByteArrayInputStream(new byte[0]),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            Map.of(),
            Main::connect);
    String table = out.toString(StandardCharsets.UTF_8);
    System.out.println(table);
    assertThat(exit).as("%s%n%s", table, err.toString(StandardCharsets.UTF_8)).isZero();

    JsonNode report = new ObjectMapper().readTree(json.toFile());
    assertThat(report.get("failures").asInt()).as(table).isZero();
    assertThat(report.get("leaked_sandboxes").asInt()).isZero();
    assertThat(report.get("iterations").get("completed").asInt()).isEqualTo(50);
    assertThat(report.get("operations").get("fork").get("n").asInt()).isEqualTo(50);
    assertThat(report.get("operations").get("exec").get("n").asInt()).isEqualTo(100);
    assertThat(report.get("operations").get("terminate").get("n").asInt()).isEqualTo(100);

    try (SandboxService s = SandboxService.builder().stateDir(stateDir).recover(false).build()) {
      // 50 created + 50 forks + the base of the shared snapshot
      assertThat(s.list()).hasSize(101).allMatch(i -> i.state().isFinal());
      assertThat(s.runtime().liveSandboxes()).isEmpty();
      assertThat(s.snapshots()).isEmpty();
    }
  }

  private SandboxService service() {
    return SandboxService.builder().stateDir(stateDir).imagesDir(TestImages.dir()).build();
  }
}
