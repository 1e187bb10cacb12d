package io.forkyard.swarm;

import io.forkyard.api.CheckpointOptions;
import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkResult;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.Sandbox;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.Sandboxes;
import io.forkyard.api.SnapshotId;
import io.forkyard.api.SnapshotInfo;
import io.forkyard.api.SnapshotStatus;
import io.forkyard.api.SnapshotType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * The swarm job: base snapshot → N forks → sequential baseline → parallel swarm → lead, and
 * optionally the no-snapshot / FILESYSTEM / MEMORY comparison. Uses only the {@link Sandboxes} SDK,
 * so it runs embedded or against a daemon. Every sandbox it creates is terminated when the run
 * ends, fails or the JVM is interrupted (Ctrl-C).
 *
 * <pre>{@code
 * SwarmReport report = Swarm.create(sandboxes, SwarmOptions.defaults()).run(listener);
 * ReportPrinter.print(report, System.out);
 * }</pre>
 */
public final class Swarm {
  static final String LABEL = "forkyard.swarm";

  /** Labels on the base snapshot, so a run reusing it knows what it holds. */
  static final String LABEL_TARGET = "forkyard.swarm.target";

  static final String LABEL_FILES = "forkyard.swarm.python-files";
  static final String LABEL_SKIPPED = "forkyard.swarm.skipped-files";
  static final String LABEL_PERSPECTIVES = "forkyard.swarm.perspectives";
  private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(30);

  private final Sandboxes sandboxes;
  private final SwarmOptions options;
  private final Map<String, String> env;
  private final Set<SandboxId> live = ConcurrentHashMap.newKeySet();
  private final Lead leadOverride;

  /** Set by the shutdown hook (Ctrl-C): from then on every sandbox made is terminated at once. */
  private volatile boolean stopping;

  private Swarm(Sandboxes sandboxes, SwarmOptions options, Map<String, String> env, Lead lead) {
    this.sandboxes = sandboxes;
    this.options = options;
    this.env = env;
    this.leadOverride = lead;
  }

  public static Swarm create(Sandboxes sandboxes, SwarmOptions options) {
    return new Swarm(sandboxes, options, System.getenv(), null);
  }

  /** With a given lead instead of the one the options and environment select (tests, embedding). */
  public static Swarm create(Sandboxes sandboxes, SwarmOptions options, Lead lead) {
    return new Swarm(sandboxes, options, System.getenv(), lead);
  }

  /** The perspective of every agent, in order; throws for unknown names before any work. */
  public List<String> plan() {
    Perspectives.validate(options.perspectives(), options.perspectiveScripts());
    return Perspectives.assign(options.perspectives(), options.agents());
  }

  /** The lead this run will use: the LLM when a key or base URL is configured, else offline. */
  public Lead lead() {
    if (leadOverride != null) {
      return leadOverride;
    }
    return OpenAiLead.Config.resolve(options, env)
        .<Lead>map(OpenAiLead::new)
        .orElseGet(OfflineLead::new);
  }

  /** Runs the whole job and writes the results file. */
  public SwarmReport run(SwarmListener listener) {
    Map<String, java.nio.file.Path> scripts =
        Perspectives.validate(options.perspectives(), options.perspectiveScripts());
    List<String> perspectives = Perspectives.assign(options.perspectives(), options.agents());
    if (options.compare() && options.snapshot().isPresent()) {
      throw new InvalidRequestException(
          "--compare builds its own base (it needs a FILESYSTEM and a MEMORY snapshot of it);"
              + " drop --snapshot");
    }
    if (options.snapshot().isPresent() && options.target().isPresent()) {
      throw new InvalidRequestException(
          "--snapshot reuses the target that was analysed when the snapshot was made;"
              + " drop --target, or drop --snapshot to analyse another target");
    }
    TargetFiles target = options.target().map(TargetFiles::load).orElseGet(TargetFiles::sample);
    Lead lead = lead();
    SandboxSetup setup =
        new SandboxSetup(target, scripts, new DebDownloader(options.debCacheDir()));
    CountDownLatch ended = new CountDownLatch(1);
    Thread hook = new Thread(() -> shutdown(ended), "forkyard-swarm-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      return runPhases(listener, perspectives, target, setup, lead);
    } finally {
      terminateAll();
      ended.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException ignored) {
        // the JVM is already shutting down: the hook runs (or ran) on its own
      }
    }
  }

  /**
   * The JVM is exiting (Ctrl-C, SIGTERM) while a run may be in progress. The run's thread keeps
   * going until the JVM halts, which happens when this hook returns: a fork or create call in
   * flight would leave a sandbox nobody terminates. So: refuse new sandboxes, terminate the known
   * ones (their agents' commands then fail fast), wait for the run to unwind, terminate again.
   *
   * @param ended counted down when the run has unwound and terminated what it made
   */
  private void shutdown(CountDownLatch ended) {
    stopping = true;
    terminateAll();
    try {
      ended.await(SHUTDOWN_GRACE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    terminateAll();
  }

  private SwarmReport runPhases(
      SwarmListener listener,
      List<String> perspectives,
      TargetFiles target,
      SandboxSetup setup,
      Lead lead) {
    int n = perspectives.size();
    // ---- phase 1
    SnapshotId memory;
    Optional<SnapshotId> filesystem = Optional.empty();
    double setupS = 0;
    double fsCheckpointS = 0;
    double memCheckpointS = 0;
    Map<String, Double> steps = new LinkedHashMap<>();
    String targetName = target.description();
    int targetFiles = target.files().size();
    int skippedFiles = target.skipped();
    boolean reused = options.snapshot().isPresent();
    if (reused) {
      memory = options.snapshot().get();
      SnapshotInfo info = sandboxes.snapshot(memory);
      if (info.status() != SnapshotStatus.COMPLETED || info.type() != SnapshotType.MEMORY) {
        throw new InvalidRequestException(
            "snapshot "
                + memory
                + " is "
                + info.type()
                + " "
                + info.status()
                + "; the swarm needs a COMPLETED MEMORY snapshot made by an earlier swarm run");
      }
      Map<String, String> labels = info.labels();
      String served = labels.get(LABEL_PERSPECTIVES);
      if (served != null) {
        List<String> known = List.of(served.split(","));
        for (String p : perspectives) {
          if (!known.contains(p)) {
            throw new InvalidRequestException(
                "snapshot "
                    + memory
                    + " serves the perspectives "
                    + served
                    + ", not '"
                    + p
                    + "' (perspective scripts are installed when the base is made:"
                    + " run without --snapshot to make one that has it)");
          }
        }
      }
      targetName = labels.getOrDefault(LABEL_TARGET, "the target of " + memory);
      targetFiles = intLabel(labels, LABEL_FILES);
      skippedFiles = intLabel(labels, LABEL_SKIPPED);
      listener.phaseStarted(SwarmPhase.BASE_SNAPSHOT, "reusing snapshot " + memory);
      listener.phaseFinished(SwarmPhase.BASE_SNAPSHOT, Duration.ZERO, "skipped: reusing " + memory);
    } else {
      listener.phaseStarted(
          SwarmPhase.BASE_SNAPSHOT,
          "base sandbox from image '"
              + options.image()
              + "', "
              + target.files().size()
              + " Python files from "
              + target.description());
      long t0 = System.nanoTime();
      Sandbox base =
          track(
              sandboxes.create(
                  SandboxSpec.builder()
                      .image(options.image())
                      .resources(options.resources())
                      .timeoutSecs(3600)
                      .label(LABEL, "base")
                      .build()));
      try {
        steps.put("create_sandbox_s", AgentRun.secondsSince(t0));
        listener.step(
            SwarmPhase.BASE_SNAPSHOT,
            "base sandbox " + base.id() + " running",
            Duration.ofNanos(System.nanoTime() - t0));
        steps.putAll(setup.install(base, (m, d) -> listener.step(SwarmPhase.BASE_SNAPSHOT, m, d)));
        // Two layers. The tools (~120 MB of installed files) go into a FILESYSTEM snapshot, whose
        // files are host files that every fork shares; only the warm worker goes into the MEMORY
        // snapshot on top. A MEMORY snapshot of the install itself would carry every installed
        // file in sandbox memory: a ~6x larger image, slower restores, and that memory once per
        // fork.
        long tf = System.nanoTime();
        SnapshotId tools =
            checkpoint(
                base,
                CheckpointOptions.FILESYSTEM.withStopAfter(true),
                Map.of(LABEL, "tools-layer", LABEL_TARGET, target.description()));
        fsCheckpointS = AgentRun.secondsSince(tf);
        filesystem = Optional.of(tools);
        steps.put("filesystem_checkpoint_s", fsCheckpointS);
        listener.step(
            SwarmPhase.BASE_SNAPSHOT,
            "FILESYSTEM snapshot " + tools + " (tools layer)",
            Duration.ofNanos(System.nanoTime() - tf));
        terminate(base.id());
        long tb = System.nanoTime();
        Sandbox warm =
            track(
                sandboxes.create(
                    SandboxSpec.builder()
                        .snapshot(tools)
                        .resources(options.resources())
                        .timeoutSecs(3600)
                        .label(LABEL, "base")
                        .build()));
        try {
          steps.put("boot_tools_layer_s", AgentRun.secondsSince(tb));
          long tw = System.nanoTime();
          String served = SandboxSetup.startWorker(warm);
          steps.put("start_worker_s", AgentRun.secondsSince(tw));
          listener.step(
              SwarmPhase.BASE_SNAPSHOT,
              "warm worker up in "
                  + warm.id()
                  + " (bandit, radon imported; target parsed), perspectives "
                  + served,
              Duration.ofNanos(System.nanoTime() - tb));
          long tc = System.nanoTime();
          memory =
              checkpoint(
                  warm,
                  CheckpointOptions.MEMORY.withStopAfter(true),
                  Map.of(
                      LABEL_TARGET,
                      target.description(),
                      LABEL_FILES,
                      Integer.toString(target.files().size()),
                      LABEL_SKIPPED,
                      Integer.toString(target.skipped()),
                      LABEL_PERSPECTIVES,
                      served));
          memCheckpointS = AgentRun.secondsSince(tc);
          steps.put("memory_checkpoint_s", memCheckpointS);
          listener.step(
              SwarmPhase.BASE_SNAPSHOT,
              "MEMORY snapshot " + memory + " (warm worker, on top of the tools layer)",
              Duration.ofNanos(System.nanoTime() - tc));
        } finally {
          terminate(warm.id());
        }
      } finally {
        terminate(base.id());
      }
      setupS = AgentRun.secondsSince(t0);
      listener.phaseFinished(
          SwarmPhase.BASE_SNAPSHOT,
          Duration.ofNanos(System.nanoTime() - t0),
          "snapshot " + memory + " ready");
    }
    SandboxSpec forkSpec =
        SandboxSpec.builder()
            .snapshot(memory)
            .timeoutSecs(Math.max(900, options.agentTimeout().toSeconds() * 4))
            .label(LABEL, "agent")
            .build();

    // ---- phase 2
    listener.phaseStarted(SwarmPhase.FORK, "forking " + n + " agents from " + memory);
    long tf0 = System.nanoTime();
    List<ForkResult> forks = sandboxes.fork(forkSpec, n);
    double forkWall = AgentRun.secondsSince(tf0);
    List<Optional<SandboxId>> agentBox = new ArrayList<>();
    List<Double> forkTimes = new ArrayList<>();
    List<String> forkErrors = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ForkResult fr = i < forks.size() ? forks.get(i) : null;
      if (fr != null && fr.ok()) {
        SandboxId id = fr.sandbox().get().id();
        live.add(id);
        agentBox.add(Optional.of(id));
        forkErrors.add("");
      } else {
        agentBox.add(Optional.empty());
        forkErrors.add(fr == null ? "no fork result" : "fork failed: " + fr.errorMessage());
      }
      forkTimes.add(fr == null ? 0.0 : fr.duration().toNanos() / 1e9);
    }
    failIfStopping();
    long okForks = agentBox.stream().filter(Optional::isPresent).count();
    listener.phaseFinished(
        SwarmPhase.FORK,
        Duration.ofNanos(System.nanoTime() - tf0),
        okForks + " of " + n + " forks running");
    if (okForks == 0) {
      throw new ForkyardException(
          ErrorCode.INTERNAL, "no agent could be forked from " + memory + ": " + forkErrors.get(0));
    }

    // ---- phase 3: each agent alone on a fresh fork, one after another
    listener.phaseStarted(
        SwarmPhase.SEQUENTIAL, n + " agents one after another, each on a fresh fork");
    long ts0 = System.nanoTime();
    double[] seqFork = new double[n];
    double[] seqExec = new double[n];
    for (int i = 0; i < n; i++) {
      failIfStopping();
      long ti = System.nanoTime();
      String p = perspectives.get(i);
      AgentRun.Outcome o;
      Sandbox box = null;
      try {
        box = track(sandboxes.create(forkSpec));
        seqFork[i] = AgentRun.secondsSince(ti);
        o = AgentRun.run(sandboxes, box.id(), p, options.agentTimeout());
      } catch (ForkyardException e) {
        seqFork[i] = AgentRun.secondsSince(ti);
        o = AgentRun.Outcome.failed("fork failed: " + e.getMessage(), 0);
      } finally {
        if (box != null) {
          terminate(box.id());
        }
      }
      seqExec[i] = o.seconds();
      listener.agentFinished(SwarmPhase.SEQUENTIAL, row(i, p, Optional.empty(), o, seqFork[i]));
    }
    double sequentialTotal = AgentRun.secondsSince(ts0);
    listener.phaseFinished(
        SwarmPhase.SEQUENTIAL,
        Duration.ofNanos(System.nanoTime() - ts0),
        String.format(Locale.ROOT, "%.2f s in all", sequentialTotal));

    failIfStopping();
    // ---- phase 4
    listener.phaseStarted(SwarmPhase.PARALLEL, okForks + " agents at once");
    List<AgentResult> rows = new ArrayList<>();
    double[] parallelRun = {0};
    List<AgentRun.Outcome> outcomes =
        runConcurrently(
            n,
            i -> {
              Optional<SandboxId> box = agentBox.get(i);
              if (box.isEmpty()) {
                return AgentRun.Outcome.failed(forkErrors.get(i), 0);
              }
              return AgentRun.run(
                  sandboxes, box.get(), perspectives.get(i), options.agentTimeout());
            },
            parallelRun,
            (i, o) ->
                listener.agentFinished(
                    SwarmPhase.PARALLEL,
                    row(i, perspectives.get(i), agentBox.get(i), o, forkTimes.get(i))));
    for (int i = 0; i < n; i++) {
      rows.add(
          row(i, perspectives.get(i), agentBox.get(i), outcomes.get(i), forkTimes.get(i))
              .withSequential(seqFork[i], seqExec[i]));
    }
    for (Optional<SandboxId> box : agentBox) {
      box.ifPresent(this::terminate);
    }
    double parallelTotal = forkWall + parallelRun[0];
    double speedup = parallelTotal > 0 ? sequentialTotal / parallelTotal : 0;
    double efficiency = speedup / n * 100;
    int cores = Runtime.getRuntime().availableProcessors();
    double coresEff = speedup / Math.max(1, Math.min(n, cores)) * 100;
    long failed = rows.stream().filter(r -> !r.ok()).count();
    listener.phaseFinished(
        SwarmPhase.PARALLEL,
        Duration.ofNanos((long) (parallelRun[0] * 1e9)),
        String.format(
            Locale.ROOT,
            "%.2f s run (+%.2f s forks), speedup %.2fx, %d failed",
            parallelRun[0],
            forkWall,
            speedup,
            failed));

    failIfStopping();
    // ---- phase 5
    double meanFork = forkTimes.stream().mapToDouble(Double::doubleValue).average().orElse(0);
    LeadInput leadInput =
        new LeadInput(
            targetName,
            rows,
            setupS,
            meanFork,
            sequentialTotal,
            parallelTotal,
            speedup,
            efficiency,
            cores);
    listener.phaseStarted(SwarmPhase.LEAD, lead.kind() + " lead reads " + n + " reports");
    long tl = System.nanoTime();
    LeadReport verdict;
    try {
      verdict = lead.aggregate(leadInput);
    } catch (RuntimeException e) {
      String reason = lead.kind() + " lead failed: " + e.getMessage();
      listener.warning(reason + "; falling back to the offline lead");
      verdict = new OfflineLead().aggregate(leadInput).withFallback(reason);
    }
    listener.phaseFinished(
        SwarmPhase.LEAD,
        Duration.ofNanos(System.nanoTime() - tl),
        "health " + verdict.healthScore() + "/100 from the " + verdict.kind() + " lead");

    // ---- comparison
    Optional<CompareReport> compare = Optional.empty();
    if (options.compare()) {
      compare =
          Optional.of(
              compare(
                  listener,
                  perspectives,
                  setup,
                  setupS,
                  filesystem.get(),
                  fsCheckpointS,
                  memory,
                  memCheckpointS));
    }
    SwarmReport report =
        new SwarmReport(
            targetName,
            targetFiles,
            skippedFiles,
            memory.value(),
            reused,
            setupS,
            steps,
            rows,
            forkWall,
            sequentialTotal,
            parallelRun[0],
            parallelTotal,
            speedup,
            efficiency,
            cores,
            coresEff,
            verdict,
            compare,
            options.resultsPath());
    ResultsJson.write(report, options.resultsPath());
    return report;
  }

  private CompareReport compare(
      SwarmListener listener,
      List<String> perspectives,
      SandboxSetup setup,
      double baseSetupS,
      SnapshotId fs,
      double fsCheckpointS,
      SnapshotId mem,
      double memCheckpointS) {
    int n = perspectives.size();
    listener.phaseStarted(
        SwarmPhase.COMPARE,
        n + " agents three ways: memory snapshot, " + "filesystem snapshot, no snapshot");
    long t0 = System.nanoTime();
    List<CompareReport.Mode> modes = new ArrayList<>();
    SandboxSpec memSpec =
        SandboxSpec.builder().snapshot(mem).timeoutSecs(1800).label(LABEL, "compare").build();
    SandboxSpec fsSpec =
        SandboxSpec.builder().snapshot(fs).timeoutSecs(1800).label(LABEL, "compare").build();
    SandboxSpec imageSpec =
        SandboxSpec.builder()
            .image(options.image())
            .resources(options.resources())
            .timeoutSecs(1800)
            .label(LABEL, "compare")
            .build();
    modes.add(
        compareMode(
            listener,
            "memory_snapshot",
            perspectives,
            memCheckpointS,
            () -> sandboxes.create(memSpec),
            box -> {}));
    modes.add(
        compareMode(
            listener,
            "filesystem_snapshot",
            perspectives,
            fsCheckpointS,
            () -> sandboxes.create(fsSpec),
            SandboxSetup::startWorker));
    modes.add(
        compareMode(
            listener,
            "no_snapshot",
            perspectives,
            0,
            () -> sandboxes.create(imageSpec),
            box -> {
              setup.install(box, (m, d) -> {});
              SandboxSetup.startWorker(box);
            }));
    Map<String, Double> ratios = new LinkedHashMap<>();
    CompareReport.Mode m = modes.get(0);
    CompareReport.Mode f = modes.get(1);
    CompareReport.Mode a = modes.get(2);
    ratios.put("no_snapshot_vs_memory_wall", ratio(a.wallS(), m.wallS()));
    ratios.put("filesystem_vs_memory_wall", ratio(f.wallS(), m.wallS()));
    ratios.put("no_snapshot_vs_filesystem_wall", ratio(a.wallS(), f.wallS()));
    ratios.put("no_snapshot_vs_memory_setup", ratio(a.setupOverheadS(), m.setupOverheadS()));
    ratios.put("filesystem_vs_memory_setup", ratio(f.setupOverheadS(), m.setupOverheadS()));
    listener.phaseFinished(
        SwarmPhase.COMPARE,
        Duration.ofNanos(System.nanoTime() - t0),
        String.format(
            Locale.ROOT,
            "wall: memory %.2f s, filesystem %.2f s, no snapshot %.2f s",
            m.wallS(),
            f.wallS(),
            a.wallS()));
    return new CompareReport(n, baseSetupS, modes, ratios);
  }

  private interface Prepare {
    void prepare(Sandbox box);
  }

  private interface Create {
    Sandbox create();
  }

  private CompareReport.Mode compareMode(
      SwarmListener listener,
      String name,
      List<String> perspectives,
      double checkpointS,
      Create create,
      Prepare prepare) {
    int n = perspectives.size();
    double[] setupS = new double[n];
    double[] readyAt = new double[n];
    double[] wall = {0};
    long[] modeStart = {0};
    List<AgentRun.Outcome> outcomes =
        runConcurrently(
            n,
            i -> {
              long t = System.nanoTime();
              Sandbox box = null;
              try {
                box = track(create.create());
                prepare.prepare(box);
                setupS[i] = AgentRun.secondsSince(t);
                readyAt[i] = (System.nanoTime() - modeStart[0]) / 1e9;
                return AgentRun.run(
                    sandboxes, box.id(), perspectives.get(i), options.agentTimeout());
              } catch (RuntimeException e) {
                setupS[i] = AgentRun.secondsSince(t);
                readyAt[i] = (System.nanoTime() - modeStart[0]) / 1e9;
                return AgentRun.Outcome.failed(
                    "setup failed: " + (e.getMessage() == null ? e.toString() : e.getMessage()), 0);
              } finally {
                if (box != null) {
                  terminate(box.id());
                }
              }
            },
            wall,
            (i, o) -> {},
            modeStart);
    List<String> errors = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      outcomes.get(i).error().ifPresent(e -> errors.add(e));
    }
    double setupMean = java.util.Arrays.stream(setupS).average().orElse(0);
    double setupWall = java.util.Arrays.stream(readyAt).max().orElse(0);
    double analysisMean =
        outcomes.stream()
            .filter(o -> o.error().isEmpty())
            .mapToDouble(AgentRun.Outcome::seconds)
            .average()
            .orElse(0);
    CompareReport.Mode mode =
        new CompareReport.Mode(
            name,
            wall[0],
            setupMean,
            setupWall,
            analysisMean,
            checkpointS,
            errors.size(),
            errors.stream().limit(5).toList());
    listener.step(
        SwarmPhase.COMPARE,
        String.format(
            Locale.ROOT,
            "%-20s wall %.2f s, setup %.2f s per agent (all ready after %.2f s), %d failed",
            name,
            mode.wallS(),
            setupMean,
            setupWall,
            errors.size()),
        Duration.ofNanos((long) (wall[0] * 1e9)));
    return mode;
  }

  private static double ratio(double a, double b) {
    return b > 0 ? a / b : 0;
  }

  private interface Done {
    void done(int index, AgentRun.Outcome outcome);
  }

  private List<AgentRun.Outcome> runConcurrently(
      int n, IntFunction<AgentRun.Outcome> work, double[] wallOut, Done done) {
    return runConcurrently(n, work, wallOut, done, new long[1]);
  }

  /** Runs n tasks on virtual threads released together; wallOut gets first start to last end. */
  private List<AgentRun.Outcome> runConcurrently(
      int n, IntFunction<AgentRun.Outcome> work, double[] wallOut, Done done, long[] startOut) {
    CountDownLatch go = new CountDownLatch(1);
    List<Future<AgentRun.Outcome>> futures = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < n; i++) {
        int index = i;
        futures.add(
            pool.submit(
                () -> {
                  go.await();
                  AgentRun.Outcome o;
                  try {
                    o = work.apply(index);
                  } catch (RuntimeException e) {
                    o = AgentRun.Outcome.failed("agent error: " + e.getMessage(), 0);
                  }
                  done.done(index, o);
                  return o;
                }));
      }
      startOut[0] = System.nanoTime();
      go.countDown();
      List<AgentRun.Outcome> out = new ArrayList<>();
      for (Future<AgentRun.Outcome> f : futures) {
        try {
          out.add(f.get());
        } catch (ExecutionException e) {
          out.add(AgentRun.Outcome.failed("agent error: " + e.getCause(), 0));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new ForkyardException(ErrorCode.INTERNAL, "swarm interrupted");
        }
      }
      wallOut[0] = (System.nanoTime() - startOut[0]) / 1e9;
      return out;
    }
  }

  private static AgentResult row(
      int i, String perspective, Optional<SandboxId> box, AgentRun.Outcome o, double forkS) {
    return new AgentResult(
        i + 1,
        perspective,
        box.map(SandboxId::value),
        o.score(),
        o.finding(),
        o.details(),
        forkS,
        o.seconds(),
        0,
        0,
        o.error());
  }

  private SnapshotId checkpoint(Sandbox base, CheckpointOptions how, Map<String, String> labels) {
    Map<String, String> all = new LinkedHashMap<>(labels);
    all.put(LABEL, "base");
    SnapshotInfo info;
    try {
      info =
          sandboxes.checkpoint(base.id(), new CheckpointOptions(how.type(), how.stopAfter(), all));
    } catch (ForkyardException e) {
      throw new ForkyardException(
          e.code(), how.type() + " checkpoint of the base sandbox failed: " + e.getMessage(), e);
    }
    if (info.status() != SnapshotStatus.COMPLETED) {
      throw new ForkyardException(
          ErrorCode.INTERNAL,
          how.type()
              + " snapshot "
              + info.id()
              + " of the base sandbox is "
              + info.status()
              + ": "
              + info.message());
    }
    return info.id();
  }

  private static int intLabel(Map<String, String> labels, String key) {
    try {
      return Integer.parseInt(labels.getOrDefault(key, "0"));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private Sandbox track(Sandbox box) {
    track(box.id());
    return box;
  }

  /** Registers a sandbox for cleanup; once the swarm is stopping, terminates it instead. */
  private void track(SandboxId id) {
    live.add(id);
    failIfStopping();
  }

  /** After Ctrl-C: terminates what is registered and ends the run instead of starting more. */
  private void failIfStopping() {
    if (stopping) {
      terminateAll();
      throw new ForkyardException(
          ErrorCode.INTERNAL, "swarm interrupted; its sandboxes are terminated");
    }
  }

  private void terminate(SandboxId id) {
    try {
      sandboxes.terminate(id);
    } catch (ForkyardException ignored) {
      // already gone (TTL, stopped by checkpoint): nothing left to free
    }
    live.remove(id);
  }

  /** Terminates every sandbox this run made that may still be running. */
  private void terminateAll() {
    List<SandboxId> ids = new ArrayList<>(live);
    if (ids.isEmpty()) {
      return;
    }
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (SandboxId id : ids) {
        pool.submit(() -> terminate(id));
      }
    }
  }
}
