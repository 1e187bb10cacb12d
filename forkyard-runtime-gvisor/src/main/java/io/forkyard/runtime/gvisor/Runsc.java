package io.forkyard.runtime.gvisor;

import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runsc command line, bound to one state root. Every child gets explicit stdio: a runsc that
 * boots a sandbox hands its stdio to the sandbox, so a pipe would never see EOF.
 */
final class Runsc {
  private static final Logger LOG = LoggerFactory.getLogger(Runsc.class);

  private static final File DEV_NULL = new File("/dev/null");

  private final Path binary;
  private final Path root;

  Runsc(Path binary, Path root) {
    this.binary = binary;
    this.root = root;
  }

  Path binary() {
    return binary;
  }

  Path root() {
    return root;
  }

  /** Finds runsc on PATH, then in the places Debian installs it. */
  static Optional<Path> locate() {
    List<Path> candidates = new ArrayList<>();
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(File.pathSeparator)) {
        if (!dir.isEmpty()) {
          candidates.add(Path.of(dir, "runsc"));
        }
      }
    }
    candidates.add(Path.of("/usr/bin/runsc"));
    candidates.add(Path.of("/usr/sbin/runsc"));
    candidates.add(Path.of("/usr/local/bin/runsc"));
    return candidates.stream().filter(Files::isExecutable).findFirst();
  }

  /** runsc with the global flags every verb needs; {@code globalFlags} go before the verb. */
  List<String> command(List<String> globalFlags, String verb, List<String> args) {
    List<String> cmd = new ArrayList<>(8 + globalFlags.size() + args.size());
    cmd.add(binary.toString());
    cmd.add("--root");
    cmd.add(root.toString());
    cmd.addAll(globalFlags);
    cmd.add(verb);
    cmd.addAll(args);
    return cmd;
  }

  /** Outcome of a short runsc call. */
  record Result(int exitCode, String stdout, String stderr) {
    boolean ok() {
      return exitCode == 0;
    }

    String message() {
      String text = (stderr.isBlank() ? stdout : stderr).strip();
      return text.isEmpty() ? "exit code " + exitCode : text;
    }
  }

  /** Runs a runsc verb that does not leave a sandbox behind, capturing its output. */
  Result call(List<String> globalFlags, String verb, List<String> args, long timeoutMillis) {
    List<String> cmd = command(globalFlags, verb, args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(DEV_NULL);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new ForkyardException(ErrorCode.INTERNAL, "cannot start " + binary + ": " + e, e);
    }
    long t0 = System.nanoTime();
    CompletableFuture<String> out = drain(p.getInputStream());
    CompletableFuture<String> err = drain(p.getErrorStream());
    try {
      if (!p.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
        throw new ForkyardException(
            ErrorCode.TIMEOUT,
            "runsc " + verb + " did not finish within " + timeoutMillis + " ms: " + cmd);
      }
      Result r = new Result(p.exitValue(), out.join(), err.join());
      logTiming(verb, args, t0, r.exitCode());
      return r;
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new ForkyardException(ErrorCode.INTERNAL, "interrupted during runsc " + verb, e);
    }
  }

  /**
   * Runs a runsc verb that boots a sandbox (run --detach, restore --detach). Its stdio goes to
   * {@code log}, which the sandbox inherits; errors are read back from there.
   */
  Result boot(List<String> globalFlags, String verb, List<String> args, Path log, long timeoutMs) {
    return boot(List.of(), globalFlags, verb, args, log, timeoutMs);
  }

  /** {@link #boot} with {@code wrapper} in front of runsc (see {@link #inNetns}). */
  Result boot(
      List<String> wrapper,
      List<String> globalFlags,
      String verb,
      List<String> args,
      Path log,
      long timeoutMs) {
    List<String> cmd = new ArrayList<>(wrapper);
    cmd.addAll(command(globalFlags, verb, args));
    File logFile = log.toFile();
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectInput(DEV_NULL)
            .redirectOutput(ProcessBuilder.Redirect.to(logFile))
            .redirectErrorStream(true);
    try {
      long t0 = System.nanoTime();
      Process p = pb.start();
      if (!p.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
        throw new ForkyardException(
            ErrorCode.TIMEOUT, "runsc " + verb + " did not finish within " + timeoutMs + " ms");
      }
      String text = Files.readString(log, StandardCharsets.UTF_8);
      logTiming(verb, args, t0, p.exitValue());
      return new Result(p.exitValue(), "", text);
    } catch (IOException e) {
      throw new ForkyardException(ErrorCode.INTERNAL, "runsc " + verb + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ForkyardException(ErrorCode.INTERNAL, "interrupted during runsc " + verb, e);
    }
  }

  /**
   * A wrapper that lets runsc 2022 use the network namespace {@code nsPath} with --network=sandbox.
   * That runsc refuses any namespace in which /proc/sys/net/core/rmem_default exists, taking it for
   * the root namespace; on current kernels (6.18 here) it exists in every namespace. In a private
   * mount namespace, an empty tmpfs is mounted on /proc/sys/net/core as seen from {@code nsPath}
   * (/proc/sys/net resolves per network namespace, so the host's own view stays untouched), then
   * runsc runs there.
   */
  static List<String> inNetns(Path nsPath) {
    return List.of(
        Networks.tool("unshare"),
        "--mount",
        "--propagation",
        "private",
        "/bin/sh",
        "-ec",
        "nsenter --net=\"$1\" mount -t tmpfs -o size=4k,mode=0555 forkyard-netns"
            + " /proc/sys/net/core; shift; exec \"$@\"",
        "forkyard-netns",
        nsPath.toString());
  }

  /** FORKYARD_LOG_LEVEL=DEBUG shows where a fork's or checkpoint's time goes, call by call. */
  private static void logTiming(String verb, List<String> args, long startNanos, int exitCode) {
    if (LOG.isDebugEnabled()) {
      LOG.debug(
          "runsc {} {} took {} ms (exit {})",
          verb,
          args.isEmpty() ? "" : args.get(args.size() - 1),
          (System.nanoTime() - startNanos) / 1_000_000,
          exitCode);
    }
  }

  private static CompletableFuture<String> drain(InputStream in) {
    CompletableFuture<String> f = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try (in) {
                f.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
              } catch (IOException e) {
                f.completeExceptionally(new UncheckedIOException(e));
              }
            });
    return f;
  }
}
