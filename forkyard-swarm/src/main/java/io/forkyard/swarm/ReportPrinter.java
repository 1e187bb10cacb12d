package io.forkyard.swarm;

import java.io.PrintStream;
import java.util.Locale;

/** Renders a {@link SwarmReport} for a terminal: plain text, fits 100 columns. */
public final class ReportPrinter {
  private ReportPrinter() {}

  public static void print(SwarmReport r, PrintStream out) {
    out.println();
    out.println("== forkyard swarm report ==");
    out.printf(
        Locale.ROOT,
        "target      %s (%d Python files, %d other files skipped)%n",
        r.target(),
        r.targetFiles(),
        r.skippedFiles());
    out.printf(
        Locale.ROOT,
        "snapshot    %s%s%n",
        r.snapshotId(),
        r.snapshotReused() ? " (reused, setup skipped)" : "");
    out.println();
    out.printf(
        Locale.ROOT,
        "%-3s %-11s %5s %7s %7s  %s%n",
        "#",
        "perspective",
        "score",
        "fork s",
        "exec s",
        "finding");
    for (AgentResult a : r.agents()) {
      String text = a.ok() ? a.finding() : "FAILED: " + a.error().orElse("");
      out.printf(
          Locale.ROOT,
          "%-3d %-11s %5s %7.3f %7.3f  %s%n",
          a.agentId(),
          clip(a.perspective(), 11),
          a.ok() ? Integer.toString(a.score()) : "-",
          a.forkTimeS(),
          a.executionTimeS(),
          clip(text, 64));
    }
    out.println();
    out.printf(Locale.ROOT, "setup (phase 1)        %8.2f s%n", r.setupTimeS());
    out.printf(
        Locale.ROOT,
        "sequential baseline    %8.2f s  (each agent: fresh fork + analysis)%n",
        r.sequentialTotalS());
    out.printf(
        Locale.ROOT,
        "parallel swarm         %8.2f s  (forks %.2f s + run %.2f s)%n",
        r.parallelTotalS(),
        r.forkWallS(),
        r.parallelRunS());
    out.printf(Locale.ROOT, "speedup                %8.2f x%n", r.speedup());
    out.printf(
        Locale.ROOT,
        "efficiency             %8.1f %%  per agent; %.1f %% of %d cores%n",
        r.efficiencyPct(),
        r.coresEfficiencyPct(),
        r.cores());
    if (!r.failedAgents().isEmpty()) {
      out.printf(
          Locale.ROOT,
          "failed agents          %s%n",
          r.failedAgents().stream().map(a -> "#" + a.agentId()).toList());
    }
    LeadReport l = r.lead();
    out.println();
    out.printf(
        Locale.ROOT, "-- lead: %s%s --%n", l.kind(), l.model().map(m -> " (" + m + ")").orElse(""));
    l.fallbackReason().ifPresent(f -> out.println("   (fell back to the offline lead: " + f + ")"));
    out.printf(Locale.ROOT, "health score  %d/100%n", l.healthScore());
    out.println("top issues");
    int i = 1;
    for (LeadIssue issue : l.topIssues()) {
      out.printf(
          Locale.ROOT,
          "  %d. [%s] %s:%d  %s%n",
          i++,
          issue.severity(),
          issue.file(),
          issue.line(),
          clip(issue.title(), 70));
    }
    out.println("next actions");
    for (String a : l.nextActions()) {
      out.println("  - " + a);
    }
    out.println("at scale");
    out.println("  " + l.scaleSentence());
    r.compare().ifPresent(c -> printCompare(c, out));
    out.println();
    out.println("results written to " + r.resultsPath().toAbsolutePath());
  }

  static void printCompare(CompareReport c, PrintStream out) {
    out.println();
    out.printf(
        Locale.ROOT,
        "-- comparison, %d agents (shared base setup %.2f s) --%n",
        c.agents(),
        c.baseSetupS());
    out.printf(
        Locale.ROOT,
        "%-20s %9s %14s %12s %10s %8s%n",
        "mode",
        "wall s",
        "setup/agent s",
        "all ready s",
        "analysis s",
        "failed");
    for (CompareReport.Mode m : c.modes()) {
      out.printf(
          Locale.ROOT,
          "%-20s %9.2f %14.2f %12.2f %10.3f %8d%n",
          m.name(),
          m.wallS(),
          m.setupOverheadS(),
          m.setupWallS(),
          m.analysisMeanS(),
          m.failures());
    }
    c.ratios().entrySet().stream()
        .sorted(java.util.Map.Entry.comparingByKey())
        .forEach(e -> out.printf(Locale.ROOT, "  %-34s %7.1fx%n", e.getKey(), e.getValue()));
  }

  private static String clip(String s, int max) {
    return s.length() <= max ? s : s.substring(0, max - 1) + "…";
  }
}
