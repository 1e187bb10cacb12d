package io.forkyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkyard.api.CommandResult;
import io.forkyard.api.SandboxState;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bench verb against the fake SDK: report shape and cleanup, not speed. */
class BenchCommandTest {
  private static final List<String> KEYS =
      List.of(
          "cold_create_first_command_ms",
          "memory_fork_first_command_ms",
          "filesystem_fork_first_command_ms",
          "checkpoint_ms",
          "batch_fork_1_wall_ms",
          "batch_fork_5_wall_ms",
          "batch_fork_20_wall_ms",
          "memory_per_fork_mib");

  private final FakeSandboxes fake = new FakeSandboxes();
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(String... args) {
    return Main.run(
        args,
        new ByteArrayInputStream(new byte[0]),
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8),
        Map.of(),
        cli -> fake);
  }

  private void assertNothingLeft() {
    assertThat(fake.sandboxes.values()).allMatch(s -> s.state() == SandboxState.TERMINATED);
    assertThat(fake.snapshots).isEmpty();
  }

  @Test
  void writesEveryScenarioWithPercentilesAndCleansUp(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("out/bench.json");
    assertThat(run("bench", "fork", "--runs", "2", "--warmup", "1", "--json", json.toString()))
        .isZero();
    JsonNode report = new ObjectMapper().readTree(json.toFile());
    for (String key : KEYS) {
      assertThat(report.get(key).get("n").asInt()).as(key).isEqualTo(2);
      assertThat(report.get(key).has("p50")).as(key).isTrue();
      assertThat(report.get(key).has("p95")).as(key).isTrue();
    }
    assertThat(report.get("runtime").asText()).isEqualTo("fake");
    assertThat(report.get("machine").get("cores").asInt()).isPositive();
    assertThat(report.get("versions").has("java")).isTrue();
    assertThat(report.get("method").get("memory").asText()).isNotBlank();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains(KEYS.toArray(String[]::new));
    // 1 base + (1 warm-up + 2) rounds x (cold, memory fork, fs fork, 1 + 5 + 20 batch)
    assertThat(fake.sandboxes).hasSize(1 + 3 * (3 + 26));
    assertNothingLeft();
  }

  @Test
  void failedForksAreReportedAndEverythingIsStillTerminated(@TempDir Path dir) throws Exception {
    fake.failingForks = List.of(3);
    Path json = dir.resolve("bench.json");
    int code = run("bench", "fork", "--runs", "1", "--warmup", "0", "--json", json.toString());
    assertThat(code).isNotZero();
    JsonNode report = new ObjectMapper().readTree(json.toFile());
    assertThat(report.get("errors").toString()).contains("batch_fork_5_wall_ms");
    assertThat(report.get("batch_fork_5_wall_ms").get("n").asInt()).isZero();
    assertThat(report.get("batch_fork_1_wall_ms").get("n").asInt()).isEqualTo(1);
    assertNothingLeft();
  }

  @Test
  void aBrokenBaseStopsTheBenchAndLeavesNothing() {
    fake.onExec = (c, sink) -> new CommandResult(1, "", "no", false, false, false, Duration.ZERO);
    assertThat(run("bench", "fork", "--runs", "1")).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("base setup");
    assertNothingLeft();
  }

  @Test
  void rejectsZeroRuns() {
    assertThat(run("bench", "fork", "--runs", "0")).isEqualTo(2);
    assertThat(fake.sandboxes).isEmpty();
  }
}
