package io.forkyard.swarm;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;

/** Writes benchmark_results.json: snake_case keys, seconds unless a key says otherwise. */
public final class ResultsJson {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ResultsJson() {}

  public static ObjectNode toJson(SwarmReport r) {
    ObjectNode root = JSON.createObjectNode();
    root.put("generated_at", Instant.now().toString());
    ObjectNode target = root.putObject("target");
    target.put("source", r.target());
    target.put("python_files", r.targetFiles());
    target.put("skipped_files", r.skippedFiles());
    root.put("agents_count", r.agents().size());
    root.put("cores", r.cores());
    root.put("snapshot_id", r.snapshotId());
    root.put("snapshot_reused", r.snapshotReused());
    ObjectNode setup = root.putObject("setup");
    setup.put("total_time_s", r3(r.setupTimeS()));
    ObjectNode steps = setup.putObject("steps");
    r.setupSteps().entrySet().stream()
        .sorted(java.util.Map.Entry.comparingByKey())
        .forEach(e -> steps.put(e.getKey(), r3(e.getValue())));
    root.put("setup_time_s", r3(r.setupTimeS()));
    ArrayNode agents = root.putArray("agents");
    for (AgentResult a : r.agents()) {
      ObjectNode o = agents.addObject();
      o.put("agent_id", a.agentId());
      o.put("perspective", a.perspective());
      o.put("score", a.score());
      o.put("finding", a.finding());
      o.set("details", JSON.valueToTree(a.details()));
      o.put("fork_time_s", r3(a.forkTimeS()));
      o.put("execution_time_s", r3(a.executionTimeS()));
      o.put("sequential_fork_time_s", r3(a.sequentialForkTimeS()));
      o.put("sequential_execution_time_s", r3(a.sequentialExecutionTimeS()));
      o.put("ok", a.ok());
      if (a.ok()) {
        o.putNull("error");
      } else {
        o.put("error", a.error().get());
      }
      a.sandboxId().ifPresentOrElse(id -> o.put("sandbox_id", id), () -> o.putNull("sandbox_id"));
    }
    ObjectNode seq = root.putObject("sequential");
    seq.put("total_time_s", r3(r.sequentialTotalS()));
    seq.put(
        "fork_time_s", r3(r.agents().stream().mapToDouble(AgentResult::sequentialForkTimeS).sum()));
    seq.put(
        "execution_time_s",
        r3(r.agents().stream().mapToDouble(AgentResult::sequentialExecutionTimeS).sum()));
    ObjectNode par = root.putObject("parallel");
    par.put("total_time_s", r3(r.parallelTotalS()));
    par.put("fork_wall_s", r3(r.forkWallS()));
    par.put("run_wall_s", r3(r.parallelRunS()));
    root.put("speedup", r3(r.speedup()));
    root.put("efficiency_pct", r1(r.efficiencyPct()));
    root.put("cores_efficiency_pct", r1(r.coresEfficiencyPct()));
    ArrayNode failed = root.putArray("failed_agents");
    r.failedAgents().forEach(a -> failed.add(a.agentId()));
    root.put("lead_kind", r.lead().kind());
    root.set("lead", lead(r.lead()));
    r.compare().ifPresent(c -> root.set("compare", compare(c)));
    return root;
  }

  static ObjectNode lead(LeadReport l) {
    ObjectNode o = JSON.createObjectNode();
    o.put("kind", l.kind());
    l.model().ifPresentOrElse(m -> o.put("model", m), () -> o.putNull("model"));
    l.fallbackReason()
        .ifPresentOrElse(m -> o.put("fallback_reason", m), () -> o.putNull("fallback_reason"));
    o.put("health_score", l.healthScore());
    ArrayNode issues = o.putArray("top_issues");
    for (LeadIssue i : l.topIssues()) {
      issues
          .addObject()
          .put("file", i.file())
          .put("line", i.line())
          .put("severity", i.severity())
          .put("title", i.title())
          .put("perspective", i.perspective());
    }
    ArrayNode actions = o.putArray("next_actions");
    l.nextActions().forEach(actions::add);
    o.put("scale_sentence", l.scaleSentence());
    return o;
  }

  static ObjectNode compare(CompareReport c) {
    ObjectNode o = JSON.createObjectNode();
    o.put("agents", c.agents());
    o.put("base_setup_s", r3(c.baseSetupS()));
    ObjectNode modes = o.putObject("modes");
    for (CompareReport.Mode m : c.modes()) {
      ObjectNode mo = modes.putObject(m.name());
      mo.put("wall_s", r3(m.wallS()));
      mo.put("setup_overhead_s", r3(m.setupOverheadS()));
      mo.put("setup_wall_s", r3(m.setupWallS()));
      mo.put("analysis_mean_s", r3(m.analysisMeanS()));
      mo.put("checkpoint_s", r3(m.checkpointS()));
      mo.put("failures", m.failures());
      ArrayNode errors = mo.putArray("errors");
      m.errors().forEach(errors::add);
    }
    ObjectNode ratios = o.putObject("ratios");
    c.ratios().entrySet().stream()
        .sorted(java.util.Map.Entry.comparingByKey())
        .forEach(e -> ratios.put(e.getKey(), r3(e.getValue())));
    return o;
  }

  public static void write(SwarmReport r, Path path) {
    try {
      Path abs = path.toAbsolutePath();
      if (abs.getParent() != null) {
        Files.createDirectories(abs.getParent());
      }
      Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
      JSON.writeValue(tmp.toFile(), toJson(r));
      Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write results to " + path + ": " + e.getMessage(), e);
    }
  }

  private static double r3(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  private static double r1(double v) {
    return Math.round(v * 10) / 10.0;
  }
}
