package io.forkyard.swarm;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The built-in lead: derives the four sections deterministically from the agents' structured
 * details, so the swarm gives a useful verdict with no network and no API key. Same input, same
 * output.
 */
public final class OfflineLead implements Lead {
  private static final List<String> PRIORITY =
      List.of("security", "complexity", "tests", "docstrings", "structure");
  private static final int MAX_ACTIONS = 6;

  @Override
  public String kind() {
    return "offline";
  }

  @Override
  public LeadReport aggregate(LeadInput input) {
    List<AgentResult> ok = input.agents().stream().filter(AgentResult::ok).toList();
    List<Candidate> candidates = new ArrayList<>();
    Set<String> seenPerspectives = new LinkedHashSet<>();
    for (AgentResult a : ok) {
      if (seenPerspectives.add(a.perspective())) {
        candidates.addAll(candidates(a));
      }
    }
    candidates.sort(
        Comparator.comparingInt((Candidate c) -> -c.issue.rank())
            .thenComparingInt(c -> priority(c.issue.perspective()))
            .thenComparingInt(c -> -c.weight)
            .thenComparing(c -> c.issue.file())
            .thenComparingInt(c -> c.issue.line()));
    List<Candidate> top = new ArrayList<>();
    Set<String> places = new LinkedHashSet<>();
    for (Candidate c : candidates) {
      if (top.size() == 3) {
        break;
      }
      if (places.add(c.issue.file() + ":" + c.issue.line())) {
        top.add(c);
      }
    }
    List<String> actions = new ArrayList<>();
    Set<String> covered = new LinkedHashSet<>();
    for (Candidate c : top) {
      actions.add(c.action);
      covered.add(c.issue.perspective());
    }
    // A perspective whose findings all rank below the top three still gets its worst one named.
    for (Candidate c : candidates) {
      if (covered.add(c.issue.perspective())) {
        actions.add(c.action);
      }
    }
    actions.addAll(coverageActions(ok));
    List<AgentResult> failed = input.failed();
    int room = failed.isEmpty() ? MAX_ACTIONS : MAX_ACTIONS - 1;
    if (actions.size() > room) {
      actions = new ArrayList<>(actions.subList(0, room));
    }
    if (!failed.isEmpty()) {
      StringBuilder sb = new StringBuilder("Re-run or fix the failed agents: ");
      for (int i = 0; i < failed.size(); i++) {
        AgentResult f = failed.get(i);
        sb.append(i == 0 ? "" : "; ")
            .append("#")
            .append(f.agentId())
            .append(" (")
            .append(f.perspective())
            .append(") ")
            .append(f.error().orElse(""));
      }
      actions.add(sb.toString());
    }
    if (actions.isEmpty()) {
      actions.add("No findings to act on; keep the swarm in CI to catch regressions.");
    }
    return new LeadReport(
        kind(),
        Optional.empty(),
        health(ok),
        top.stream().map(c -> c.issue).toList(),
        actions,
        scaleSentence(input),
        Optional.empty());
  }

  /** Mean over perspectives of each perspective's mean score; failed agents do not count. */
  static int health(List<AgentResult> ok) {
    Map<String, List<Integer>> by = new LinkedHashMap<>();
    for (AgentResult a : ok) {
      by.computeIfAbsent(a.perspective(), k -> new ArrayList<>()).add(a.score());
    }
    if (by.isEmpty()) {
      return 0;
    }
    double sum = 0;
    for (List<Integer> scores : by.values()) {
      sum += scores.stream().mapToInt(Integer::intValue).average().orElse(0);
    }
    return (int) Math.round(sum / by.size());
  }

  static String scaleSentence(LeadInput in) {
    int n = in.agents().size();
    if (in.parallelTotalS() <= 0 || in.sequentialTotalS() <= 0) {
      return String.format(
          Locale.ROOT, "%d agents ran, but no timing was measured to judge scaling.", n);
    }
    int usable = Math.max(1, Math.min(n, in.cores()));
    return String.format(
        Locale.ROOT,
        "%d agents forked from one memory snapshot finished in %.2f s instead of %.2f s one after"
            + " another (%.1fx speedup, %.0f%% efficiency over %d agents); each extra agent costs"
            + " a %.2f s fork instead of a %.1f s setup, so on this %d-core machine throughput"
            + " grows with cores (%.0f%% of the %d usable cores kept busy), not with setup time.",
        n,
        in.parallelTotalS(),
        in.sequentialTotalS(),
        in.speedup(),
        in.efficiencyPct(),
        n,
        in.forkTimeS(),
        in.setupTimeS(),
        in.cores(),
        100.0 * in.speedup() / usable,
        usable);
  }

  private static int priority(String perspective) {
    int i = PRIORITY.indexOf(perspective);
    return i < 0 ? PRIORITY.size() : i;
  }

  private record Candidate(LeadIssue issue, int weight, String action) {}

  private static List<Candidate> candidates(AgentResult a) {
    Map<String, Object> d = a.details();
    List<Candidate> out = new ArrayList<>();
    switch (a.perspective()) {
      case "security" -> {
        for (Map<String, Object> f : maps(d.get("findings"))) {
          String id = str(f.get("test_id"));
          String file = str(f.get("file"));
          int line = integer(f.get("line"));
          String text = str(f.get("text"));
          int conf =
              switch (str(f.get("confidence"))) {
                case "HIGH" -> 3;
                case "MEDIUM" -> 2;
                default -> 1;
              };
          out.add(
              new Candidate(
                  new LeadIssue(
                      file,
                      line,
                      severity(id, str(f.get("severity"))),
                      id + " " + str(f.get("test_name")) + ": " + text,
                      "security"),
                  conf,
                  securityAction(id, file, line, text)));
        }
      }
      case "complexity" -> {
        for (Map<String, Object> b : maps(d.get("above"))) {
          int cc = integer(b.get("complexity"));
          String sev = cc > 20 ? "HIGH" : cc > 10 ? "MEDIUM" : "LOW";
          String file = str(b.get("file"));
          int line = integer(b.get("lineno"));
          String name = str(b.get("name"));
          out.add(
              new Candidate(
                  new LeadIssue(
                      file,
                      line,
                      sev,
                      name
                          + " has cyclomatic complexity "
                          + cc
                          + " (rank "
                          + str(b.get("rank"))
                          + ")",
                      "complexity"),
                  cc,
                  String.format(
                      Locale.ROOT,
                      "Split %s (complexity %d) at %s:%d into smaller functions, one decision each,"
                          + " and cover each branch with a test.",
                      name,
                      cc,
                      file,
                      line)));
        }
      }
      default -> {
        // user perspectives may report places as details.locations: [{file, line, severity, title}]
        for (Map<String, Object> l : maps(d.get("locations"))) {
          String sev = str(l.get("severity")).toUpperCase(Locale.ROOT);
          if (!Set.of("HIGH", "MEDIUM", "LOW").contains(sev)) {
            sev = "LOW";
          }
          String file = str(l.get("file"));
          int line = integer(l.get("line"));
          String title = str(l.get("title"));
          out.add(
              new Candidate(
                  new LeadIssue(file, line, sev, title, a.perspective()),
                  0,
                  "Address " + title + " at " + file + ":" + line + " (" + a.perspective() + ")."));
        }
      }
    }
    return out;
  }

  /**
   * The lead's severity for a bandit finding: bandit's own, except where it misleads for code that
   * runs on Python 3. B322 flags every input() as HIGH although, as its own message says, input is
   * safe on Python 3 (what the input reaches, e.g. eval, has its own finding). Hard-coded passwords
   * (B105-B107) are rated LOW by bandit, but the credential leaks whenever the code does.
   */
  static String severity(String testId, String banditSeverity) {
    return switch (testId) {
      case "B322" -> "LOW";
      case "B105", "B106", "B107" -> banditSeverity.equals("HIGH") ? "HIGH" : "MEDIUM";
      default -> banditSeverity;
    };
  }

  static String securityAction(String id, String file, int line, String text) {
    String where = file + ":" + line;
    return switch (id) {
      case "B602", "B604", "B605" ->
          "Run the command at "
              + where
              + " without a shell: pass an argument list with"
              + " shell=False and validate the user-controlled parts (bandit "
              + id
              + ").";
      case "B307", "B102" ->
          "Replace eval/exec of user input at "
              + where
              + " with ast.literal_eval or a small"
              + " parser (bandit "
              + id
              + ").";
      case "B322" ->
          "Treat input() at "
              + where
              + " as untrusted text: parse and validate it, never"
              + " evaluate it (bandit B322).";
      case "B105", "B106", "B107" ->
          "Move the hard-coded password at "
              + where
              + " into configuration or a secret store"
              + " and rotate it (bandit "
              + id
              + ").";
      default -> "Fix bandit " + id + " at " + where + ": " + text;
    };
  }

  private static List<String> coverageActions(List<AgentResult> ok) {
    List<String> out = new ArrayList<>();
    Set<String> done = new LinkedHashSet<>();
    for (AgentResult a : ok) {
      if (!done.add(a.perspective())) {
        continue;
      }
      Map<String, Object> d = a.details();
      if (a.perspective().equals("tests") && a.score() < 60) {
        List<String> untested = strings(d.get("untested_modules"));
        if (!untested.isEmpty()) {
          out.add(
              String.format(
                  Locale.ROOT,
                  "Add tests for the %d untested modules, starting with %s.",
                  untested.size(),
                  String.join(", ", untested.subList(0, Math.min(3, untested.size())))));
        }
      } else if (a.perspective().equals("docstrings") && a.score() < 80) {
        List<Map<String, Object>> missing = maps(d.get("missing"));
        if (!missing.isEmpty()) {
          Map<String, Object> m = missing.get(0);
          out.add(
              String.format(
                  Locale.ROOT,
                  "Document the %d undocumented modules, classes and functions, first %s at %s:%d.",
                  integer(d.get("missing_count")),
                  str(m.get("name")),
                  str(m.get("file")),
                  integer(m.get("line"))));
        }
      }
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> maps(Object o) {
    List<Map<String, Object>> out = new ArrayList<>();
    if (o instanceof List<?> list) {
      for (Object e : list) {
        if (e instanceof Map<?, ?> m) {
          out.add((Map<String, Object>) m);
        }
      }
    }
    return out;
  }

  static List<String> strings(Object o) {
    List<String> out = new ArrayList<>();
    if (o instanceof List<?> list) {
      for (Object e : list) {
        out.add(String.valueOf(e));
      }
    }
    return out;
  }

  static String str(Object o) {
    return o == null ? "" : String.valueOf(o);
  }

  static int integer(Object o) {
    if (o instanceof Number n) {
      return n.intValue();
    }
    try {
      return o == null ? 0 : Integer.parseInt(String.valueOf(o));
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
