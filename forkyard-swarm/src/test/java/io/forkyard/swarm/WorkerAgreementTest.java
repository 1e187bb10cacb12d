package io.forkyard.swarm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Security and Complexity perspectives must agree with bandit and radon run directly on the
 * same files: same issue ids, lines and counts; same blocks and complexities.
 */
class WorkerAgreementTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  private JsonNode perspective(Path worker, Path target, String name) throws Exception {
    HostPython.Result r =
        HostPython.run(
            tmp,
            Map.of(),
            HostPython.PYTHON,
            worker.resolve("worker.py").toString(),
            "run",
            name,
            "--target",
            target.toString());
    assertThat(r.exit()).as(r.stderr()).isZero();
    List<String> lines = r.stdout().lines().toList();
    assertThat(lines).hasSize(1);
    JsonNode node = JSON.readTree(lines.get(0));
    assertThat(node.get("perspective").asText()).isEqualTo(name);
    assertThat(node.get("score").asInt()).isBetween(0, 100);
    assertThat(node.get("finding").asText()).isNotBlank();
    return node;
  }

  @ParameterizedTest
  @ValueSource(strings = {"sample", "inventory", "ledger"})
  void securityMatchesBanditRunDirectly(String codebase) throws Exception {
    Path worker = HostPython.extractWorker(tmp.resolve("w"));
    Path target = HostPython.codebase(codebase, tmp.resolve("t"));
    JsonNode ours = perspective(worker, target, "security");

    List<String> expected = HostTools.banditFindings(target);
    assertThat(expected).isNotEmpty();
    assertThat(HostTools.securityFindings(ours.get("details"))).isEqualTo(expected);
    JsonNode d = ours.get("details");
    assertThat(d.get("issues").isInt()).isTrue();
    assertThat(d.get("high").isInt()).isTrue();
    assertThat(d.get("issues").asInt()).isEqualTo(expected.size());
    assertThat(d.get("high").asLong()).isEqualTo(HostTools.highCount(expected));
  }

  @ParameterizedTest
  @ValueSource(strings = {"sample", "inventory", "ledger"})
  void complexityMatchesRadonRunDirectly(String codebase) throws Exception {
    Path worker = HostPython.extractWorker(tmp.resolve("w"));
    Path target = HostPython.codebase(codebase, tmp.resolve("t"));
    JsonNode ours = perspective(worker, target, "complexity");

    List<String> expected = HostTools.radonBlocks(target);
    assertThat(expected).isNotEmpty();
    assertThat(HostTools.complexityBlocks(ours.get("details"))).isEqualTo(expected);
    assertThat(ours.get("details").get("above_threshold").asLong())
        .isEqualTo(HostTools.aboveThreshold(expected))
        .isPositive();
    List<String> unparsable = new ArrayList<>();
    ours.get("details").get("unparsable_files").forEach(f -> unparsable.add(f.asText()));
    assertThat(unparsable).isEqualTo(HostTools.radonErrors(target));
  }

  @ParameterizedTest
  @ValueSource(strings = {"docstrings", "tests", "structure"})
  void otherPerspectivesReportOnTheSample(String name) throws Exception {
    Path worker = HostPython.extractWorker(tmp.resolve("w"));
    Path target = HostPython.codebase("sample", tmp.resolve("t"));
    JsonNode d = perspective(worker, target, name).get("details");
    switch (name) {
      case "docstrings" ->
          assertThat(d.get("documented").asInt()).isLessThan(d.get("total").asInt());
      case "tests" -> {
        assertThat(d.get("test_files").asInt()).isEqualTo(1);
        assertThat(d.get("source_files").asInt()).isEqualTo(6);
      }
      default -> {
        assertThat(d.get("files").asInt()).isEqualTo(8);
        assertThat(d.get("per_file").has("shop/pricing.py")).isTrue();
      }
    }
  }

  @org.junit.jupiter.api.Test
  void sampleCarriesTheSeededProblems() throws Exception {
    Path worker = HostPython.extractWorker(tmp.resolve("w"));
    Path target = HostPython.codebase("sample", tmp.resolve("t"));
    JsonNode sec = perspective(worker, target, "security").get("details").get("by_test_id");
    assertThat(sec.has("B106")).as("hard-coded password").isTrue();
    assertThat(sec.has("B307")).as("eval").isTrue();
    assertThat(sec.has("B602")).as("subprocess shell=True").isTrue();
    JsonNode worst = perspective(worker, target, "complexity").get("details").get("worst");
    assertThat(worst.get("complexity").asInt()).isGreaterThan(10);
  }
}
