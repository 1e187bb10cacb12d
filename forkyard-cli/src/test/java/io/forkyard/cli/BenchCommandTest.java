package io.forkyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkyard.api.CommandResult;
import io.forkyard.api.SandboxState;
import io.forkyard.testkit.FakeSandboxes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
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
          "memory_per_fork_mib",
          "cold_create_internet_first_command_ms",
          "memory_fork_internet_first_command_ms");

  private final FakeSandboxes fake = FakeSandboxes.scripted();
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
    // 2 bases (one with internet) + (1 warm-up + 2) rounds x (cold, memory fork, fs fork,
    // cold and memory fork with internet, 1 + 5 + 20 batch)
    assertThat(fake.sandboxes).hasSize(2 + 3 * (5 + 26));
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

  // ---- bench load: through a real in-process daemon over the fake SDK

  /** exec like a shell: echo prints, "echo X > F" writes F, cat prints it back. */
  private void shellLikeExec() {
    Map<String, String> files = new ConcurrentHashMap<>();
    fake.onExec =
        (c, sink) -> {
          List<String> a = c.argv();
          String out = "";
          if (a.get(0).equals("echo")) {
            out = String.join(" ", a.subList(1, a.size())) + "\n";
          } else if (a.get(0).equals("cat")) {
            out = files.getOrDefault(a.get(1), "");
          } else if (a.size() == 3 && a.get(2).matches("echo \\S+ > \\S+")) {
            String[] words = a.get(2).split(" ");
            files.put(words[3], words[1] + "\n");
          }
          return new CommandResult(0, out, "", false, false, false, Duration.ZERO);
        };
  }

  @Test
  void loadReportsEveryOperationWithPercentilesAndCleansUp(@TempDir Path dir) throws Exception {
    shellLikeExec();
    Path json = dir.resolve("load.json");
    int code =
        run("bench", "load", "--clients", "4", "--iterations", "3", "--json", json.toString());
    assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
    JsonNode r = new ObjectMapper().readTree(json.toFile());
    assertThat(r.get("benchmark").asText()).isEqualTo("load");
    assertThat(r.get("failures").asInt()).isZero();
    assertThat(r.get("leaked_sandboxes").asInt()).isZero();
    assertThat(r.get("iterations").get("completed").asInt()).isEqualTo(12);
    assertThat(r.get("operations_ok").asInt()).isEqualTo(12 * 6);
    assertThat(r.get("throughput_ops_per_s").asDouble()).isPositive();
    Map<String, Integer> counts = Map.of("create", 12, "exec", 24, "fork", 12, "terminate", 24);
    counts.forEach(
        (op, n) -> {
          JsonNode o = r.get("operations").get(op);
          assertThat(o.get("n").asInt()).as(op).isEqualTo(n);
          assertThat(o.get("failures").asInt()).as(op).isZero();
          assertThat(o.has("p50_ms") && o.has("p95_ms") && o.has("p99_ms")).as(op).isTrue();
        });
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("p99")
        .contains("leaked sandboxes: 0");
    // every sandbox of the run carries the run's label, the base included
    assertThat(fake.sandboxes.values())
        .hasSize(1 + 12 * 2)
        .allMatch(s -> s.labels().get("forkyard-bench").equals(r.get("run_id").asText()));
    assertNothingLeft();
  }

  @Test
  void loadCountsFailedOperationsAndStillTerminatesEverything(@TempDir Path dir) throws Exception {
    shellLikeExec();
    fake.failingForks = List.of(0);
    Path json = dir.resolve("load.json");
    int code =
        run("bench", "load", "--clients", "2", "--iterations", "2", "--json", json.toString());
    assertThat(code).isEqualTo(1);
    JsonNode r = new ObjectMapper().readTree(json.toFile());
    assertThat(r.get("operations").get("fork").get("failures").asInt()).isEqualTo(4);
    assertThat(r.get("iterations").get("failed").asInt()).isEqualTo(4);
    assertThat(r.get("failures_by_code").get("INVALID_STATE").asInt()).isEqualTo(4);
    assertThat(r.get("errors").toString()).contains("broke");
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("4 failed operation(s)");
    assertNothingLeft();
  }

  @Test
  void loadRefusesADaemonOnAnotherHost() {
    assertThat(run("--url", "http://192.0.2.1:7420", "bench", "load")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("loopback");
    assertThat(fake.sandboxes).isEmpty();
  }

  @Test
  void loadRejectsTooManyClients() {
    assertThat(run("bench", "load", "--clients", "1000")).isEqualTo(2);
    assertThat(fake.sandboxes).isEmpty();
  }
}
