package io.forkyard.swarm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * bandit and radon run directly on the host (Debian's python3-bandit and radon, the same packages
 * the sandboxes get), reduced to sorted keys that the Security and Complexity perspectives' details
 * must reproduce exactly.
 */
final class HostTools {
  private static final ObjectMapper JSON = new ObjectMapper();

  private HostTools() {}

  /** One key per bandit finding: file:line:test_id:severity. */
  static List<String> banditFindings(Path dir) throws Exception {
    HostPython.Result r =
        HostPython.run(dir, Map.of(), HostPython.PYTHON, "-m", "bandit", "-r", "-f", "json", ".");
    JsonNode bandit = JSON.readTree(r.stdout());
    assertThat(bandit.has("results")).as("bandit output: " + r.stderr()).isTrue();
    List<String> keys = new ArrayList<>();
    for (JsonNode f : bandit.get("results")) {
      keys.add(
          finding(
              Path.of(f.get("filename").asText()).normalize().toString(),
              f.get("line_number").asInt(),
              f.get("test_id").asText(),
              f.get("issue_severity").asText()));
    }
    return keys.stream().sorted().toList();
  }

  /** The same keys from a Security result's details. */
  static List<String> securityFindings(JsonNode details) {
    List<String> keys = new ArrayList<>();
    for (JsonNode f : details.get("findings")) {
      keys.add(
          finding(
              f.get("file").asText(),
              f.get("line").asInt(),
              f.get("test_id").asText(),
              f.get("severity").asText()));
    }
    return keys.stream().sorted().toList();
  }

  /**
   * One key per block radon cc lists: file:type:classname:name:lineno:complexity:rank. Files radon
   * cannot parse (reported as {"error": ...}) have no blocks.
   */
  static List<String> radonBlocks(Path dir) throws Exception {
    HostPython.Result r = HostPython.run(dir, Map.of(), "radon", "cc", "-j", ".");
    assertThat(r.exit()).as(r.stderr()).isZero();
    List<String> keys = new ArrayList<>();
    for (var e : JSON.readTree(r.stdout()).properties()) {
      if (!e.getValue().isArray()) {
        continue;
      }
      for (JsonNode b : e.getValue()) {
        keys.add(
            block(
                Path.of(e.getKey()).normalize().toString(),
                b.get("type").asText(),
                b.path("classname").asText(""),
                b.get("name").asText(),
                b.get("lineno").asInt(),
                b.get("complexity").asInt(),
                b.get("rank").asText()));
      }
    }
    return keys.stream().sorted().toList();
  }

  /** The files radon reports as unparsable. */
  static List<String> radonErrors(Path dir) throws Exception {
    HostPython.Result r = HostPython.run(dir, Map.of(), "radon", "cc", "-j", ".");
    List<String> files = new ArrayList<>();
    for (var e : JSON.readTree(r.stdout()).properties()) {
      if (e.getValue().isObject() && e.getValue().has("error")) {
        files.add(Path.of(e.getKey()).normalize().toString());
      }
    }
    return files.stream().sorted().toList();
  }

  /** The same keys from a Complexity result's details. */
  static List<String> complexityBlocks(JsonNode details) {
    List<String> keys = new ArrayList<>();
    for (JsonNode b : details.get("blocks")) {
      keys.add(
          block(
              b.get("file").asText(),
              b.get("type").asText(),
              b.get("classname").isNull() ? "" : b.get("classname").asText(),
              b.get("name").asText(),
              b.get("lineno").asInt(),
              b.get("complexity").asInt(),
              b.get("rank").asText()));
    }
    return keys.stream().sorted().toList();
  }

  static long highCount(List<String> findings) {
    return findings.stream().filter(k -> k.endsWith(":HIGH")).count();
  }

  /** Functions and methods (not classes) above the Complexity perspective's threshold of 5. */
  static long aboveThreshold(List<String> blocks) {
    return blocks.stream()
        .filter(k -> !k.split(":")[1].equals("class"))
        .filter(k -> Integer.parseInt(k.split(":")[5]) > 5)
        .count();
  }

  private static String finding(String file, int line, String testId, String severity) {
    return file + ":" + line + ":" + testId + ":" + severity;
  }

  private static String block(
      String file, String type, String cls, String name, int line, int cc, String rank) {
    return String.join(
        ":", file, type, cls, name, Integer.toString(line), Integer.toString(cc), rank);
  }
}
