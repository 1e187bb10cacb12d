package io.forkyard.swarm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
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
  @ValueSource(strings = {"sample", "inventory"})
  void securityMatchesBanditRunDirectly(String codebase) throws Exception {
    Path worker = HostPython.extractWorker(tmp.resolve("w"));
    Path target = HostPython.codebase(codebase, tmp.resolve("t"));
    JsonNode ours = perspective(worker, target, "security");

    HostPython.Result direct =
        HostPython.run(
            target, Map.of(), HostPython.PYTHON, "-m", "bandit", "-r", "-f", "json", ".");
    JsonNode bandit = JSON.readTree(direct.stdout());
    List<String> expected = new ArrayList<>();
    int high = 0;
    for (JsonNode r : bandit.get("results")) {
      expected.add(
          Path.of(r.get("filename").asText()).normalize()
              + ":"
              + r.get("line_number").asInt()
              + ":"
              + r.get("test_id").asText()
              + ":"
              + r.get("issue_severity").asText());
      if (r.get("issue_severity").asText().equals("HIGH")) {
        high++;
      }
    }
    List<String> actual = new ArrayList<>();
    for (JsonNode f : ours.get("details").get("findings")) {
      actual.add(
          f.get("file").asText()
              + ":"
              + f.get("line").asInt()
              + ":"
              + f.get("test_id").asText()
              + ":"
              + f.get("severity").asText());
    }
    Collections.sort(expected);
    Collections.sort(actual);
    assertThat(expected).isNotEmpty();
    assertThat(actual).isEqualTo(expected);
    JsonNode d = ours.get("details");
    assertThat(d.get("issues").isInt()).isTrue();
    assertThat(d.get("high").isInt()).isTrue();
    assertThat(d.get("issues").asInt()).isEqualTo(expected.size());
    assertThat(d.get("high").asInt()).isEqualTo(high);
  }

  @ParameterizedTest
  @ValueSource(strings = {"sample", "inventory"})
  void complexityMatchesRadonRunDirectly(String codebase) throws Exception {
    Path worker = HostPython.extractWorker(tmp.resolve("w"));
    Path target = HostPython.codebase(codebase, tmp.resolve("t"));
    JsonNode ours = perspective(worker, target, "complexity");

    HostPython.Result direct = HostPython.run(target, Map.of(), "radon", "cc", "-j", ".");
    assertThat(direct.exit()).as(direct.stderr()).isZero();
    JsonNode radon = JSON.readTree(direct.stdout());
    List<String> expected = new ArrayList<>();
    radon
        .fields()
        .forEachRemaining(
            e -> {
              for (JsonNode b : e.getValue()) {
                expected.add(
                    Path.of(e.getKey()).normalize()
                        + ":"
                        + b.get("type").asText()
                        + ":"
                        + b.path("classname").asText("")
                        + ":"
                        + b.get("name").asText()
                        + ":"
                        + b.get("lineno").asInt()
                        + ":"
                        + b.get("complexity").asInt()
                        + ":"
                        + b.get("rank").asText());
              }
            });
    List<String> actual = new ArrayList<>();
    for (JsonNode b : ours.get("details").get("blocks")) {
      actual.add(
          b.get("file").asText()
              + ":"
              + b.get("type").asText()
              + ":"
              + (b.get("classname").isNull() ? "" : b.get("classname").asText())
              + ":"
              + b.get("name").asText()
              + ":"
              + b.get("lineno").asInt()
              + ":"
              + b.get("complexity").asInt()
              + ":"
              + b.get("rank").asText());
    }
    Collections.sort(expected);
    Collections.sort(actual);
    assertThat(expected).isNotEmpty();
    assertThat(actual).isEqualTo(expected);
    long above =
        expected.stream()
            .filter(s -> !s.contains(":class:"))
            .filter(s -> Integer.parseInt(s.split(":")[5]) > 5)
            .count();
    assertThat(ours.get("details").get("above_threshold").asLong()).isEqualTo(above).isPositive();
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
