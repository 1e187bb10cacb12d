package io.forkyard.swarm;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Agent rows made by running the real worker on the bundled sample on the host. */
final class LeadFixtures {
  private static final ObjectMapper JSON = new ObjectMapper();

  private LeadFixtures() {}

  static List<AgentResult> sampleAgents(Path tmp) throws Exception {
    Path worker = HostPython.extractWorker(tmp.resolve("w"));
    Path target = HostPython.codebase("sample", tmp.resolve("t"));
    List<AgentResult> rows = new ArrayList<>();
    int id = 1;
    for (String p : Perspectives.BUILTIN) {
      HostPython.Result r =
          HostPython.run(
              tmp,
              Map.of(),
              HostPython.PYTHON,
              worker.resolve("worker.py").toString(),
              "run",
              p,
              "--target",
              target.toString());
      JsonNode n = JSON.readTree(r.stdout());
      Map<String, Object> details = JSON.convertValue(n.get("details"), new TypeReference<>() {});
      rows.add(
          new AgentResult(
              id++,
              p,
              Optional.of("sb-" + p),
              n.get("score").asInt(),
              n.get("finding").asText(),
              details,
              0.2,
              0.3,
              0.25,
              0.3,
              Optional.empty()));
    }
    return rows;
  }

  static LeadInput input(List<AgentResult> agents) {
    return new LeadInput("bundled sample", agents, 40.0, 0.2, 3.0, 1.5, 2.0, 40.0, 2);
  }

  static AgentResult failed(int id, String perspective, String error) {
    return new AgentResult(
        id, perspective, Optional.empty(), 0, "", Map.of(), 0.2, 0, 0, 0, Optional.of(error));
  }
}
