package io.forkyard.swarm;

import io.forkyard.api.Command;
import io.forkyard.api.CommandResult;
import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.Sandbox;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a fresh sandbox into an analysis environment through the SDK only: tools from host-side
 * .debs, the target, the worker and the agent client, and finally the warm worker process. Used for
 * the base sandbox, and per agent in the no-snapshot comparison.
 */
final class SandboxSetup {
  static final String ROOT = "/opt/forkyard-swarm";
  static final String TARGET = ROOT + "/target";
  static final String WORKER = ROOT + "/worker.py";
  static final String CLIENT = ROOT + "/client.py";
  static final String PERSPECTIVES = ROOT + "/perspectives";
  static final String RUN = ROOT + "/run";
  static final String DEBS = ROOT + "/debs";
  static final List<String> TOOL_PACKAGES = List.of("python3-bandit", "radon");
  static final Map<String, String> ENV =
      Map.of(
          "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
          "DEBIAN_FRONTEND", "noninteractive",
          "LANG", "C.UTF-8");
  private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(10);
  private static final Duration WORKER_START_TIMEOUT = Duration.ofSeconds(90);

  private final TargetFiles target;
  private final Map<String, Path> scripts;
  private final DebDownloader debs;

  /** How long each step took, in order; read after {@link #prepare}. */
  interface StepListener {
    void step(String message, Duration took);
  }

  SandboxSetup(TargetFiles target, Map<String, Path> scripts, DebDownloader debs) {
    this.target = target;
    this.scripts = scripts;
    this.debs = debs;
  }

  /** Everything but starting the worker. Returns step name to seconds. */
  Map<String, Double> install(Sandbox sandbox, StepListener listener) {
    Map<String, Double> steps = new LinkedHashMap<>();
    long t = System.nanoTime();
    byte[] status = sandbox.readFile("/var/lib/dpkg/status");
    DebDownloader.Debs set = debs.resolve(status, TOOL_PACKAGES);
    t =
        step(
            steps,
            listener,
            "tool packages resolved on the host: "
                + set.files().size()
                + " .debs, "
                + mib(set.totalBytes())
                + (set.fromCache() ? " (cached)" : " (downloaded)"),
            "resolve_debs_s",
            t);
    if (!set.files().isEmpty()) {
      for (Path deb : set.files()) {
        sandbox.writeFile(DEBS + "/" + deb.getFileName(), readAll(deb));
      }
      t = step(steps, listener, ".debs copied into the sandbox", "copy_debs_s", t);
      CommandResult r =
          run(
              sandbox,
              Command.shell("dpkg -i " + DEBS + "/*.deb && rm -rf " + DEBS)
                  .withTimeout(INSTALL_TIMEOUT));
      if (!r.succeeded()) {
        throw new ForkyardException(
            ErrorCode.INTERNAL,
            "installing bandit and radon inside the sandbox failed (dpkg exit "
                + r.exitCode()
                + (r.timedOut() ? ", timed out" : "")
                + "):\n"
                + DebDownloader.tail(r.stderr() + r.stdout(), 3000));
      }
      t =
          step(
              steps,
              listener,
              "bandit and radon installed with dpkg (no network)",
              "dpkg_install_s",
              t);
    }
    verifyTool(sandbox, "bandit", "/usr/bin/python3", "-m", "bandit", "--version");
    verifyTool(sandbox, "radon", "radon", "--version");
    t =
        step(
            steps,
            listener,
            "tools verified: python3 -m bandit --version, radon --version",
            "verify_tools_s",
            t);
    for (TargetFiles.TargetFile f : target.files()) {
      sandbox.writeFile(TARGET + "/" + f.path(), f.content());
    }
    t =
        step(
            steps,
            listener,
            "target written: "
                + target.files().size()
                + " Python files ("
                + target.skipped()
                + " other files skipped)",
            "write_target_s",
            t);
    sandbox.writeFile(WORKER, TargetFiles.resourceBytes("/io/forkyard/swarm/worker/worker.py"));
    sandbox.writeFile(CLIENT, TargetFiles.resourceBytes("/io/forkyard/swarm/worker/client.py"));
    for (var e : scripts.entrySet()) {
      sandbox.writeFile(PERSPECTIVES + "/" + e.getKey() + ".py", readAll(e.getValue()));
    }
    run(sandbox, Command.of("mkdir", "-p", RUN, PERSPECTIVES));
    step(
        steps,
        listener,
        "worker, client and " + scripts.size() + " perspective scripts written",
        "write_worker_s",
        t);
    return steps;
  }

  /**
   * Starts the worker in the background and waits until it answers: it has then imported bandit and
   * radon and parsed the target. Returns the perspectives it serves.
   */
  static String startWorker(Sandbox sandbox) {
    CommandResult start =
        run(
            sandbox,
            Command.shell(
                    "cd "
                        + ROOT
                        + " && setsid /usr/bin/python3 "
                        + WORKER
                        + " serve --socket "
                        + RUN
                        + "/worker.sock --target "
                        + TARGET
                        + " --perspectives "
                        + PERSPECTIVES
                        + " </dev/null >"
                        + RUN
                        + "/worker.log 2>&1 &")
                .withTimeout(Duration.ofSeconds(30)));
    if (!start.succeeded()) {
      throw new ForkyardException(
          ErrorCode.INTERNAL, "could not start the analysis worker: " + start.stderr());
    }
    CommandResult ping =
        run(
            sandbox,
            Command.of(
                    "/usr/bin/python3",
                    "-S",
                    CLIENT,
                    "--ping",
                    Long.toString(WORKER_START_TIMEOUT.toSeconds()))
                .withTimeout(WORKER_START_TIMEOUT.plusSeconds(10)));
    if (!ping.succeeded()) {
      String log = "";
      try {
        log = sandbox.readString(RUN + "/worker.log");
      } catch (ForkyardException ignored) {
        // no log: the worker never started
      }
      throw new ForkyardException(
          ErrorCode.INTERNAL,
          "the analysis worker did not come up: "
              + ping.stderr().strip()
              + "\nworker log:\n"
              + DebDownloader.tail(log, 3000));
    }
    return ping.stdout().strip();
  }

  private static void verifyTool(Sandbox sandbox, String tool, String... argv) {
    CommandResult r = run(sandbox, Command.of(argv).withTimeout(Duration.ofSeconds(60)));
    if (!r.succeeded()) {
      throw new ForkyardException(
          ErrorCode.INTERNAL,
          tool
              + " does not run inside the sandbox (`"
              + String.join(" ", argv)
              + "` exit "
              + r.exitCode()
              + "): "
              + DebDownloader.tail(r.stderr() + r.stdout(), 2000));
    }
  }

  static CommandResult run(Sandbox sandbox, Command command) {
    return sandbox.run(command.withEnv(ENV));
  }

  private static long step(
      Map<String, Double> steps,
      StepListener listener,
      String message,
      String key,
      long startNanos) {
    long now = System.nanoTime();
    Duration took = Duration.ofNanos(now - startNanos);
    steps.put(key, took.toNanos() / 1e9);
    listener.step(message, took);
    return now;
  }

  private static byte[] readAll(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String mib(long bytes) {
    return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
  }
}
