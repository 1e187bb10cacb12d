package io.forkyard.cli;

import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.Sandboxes;
import io.forkyard.client.RemoteSandboxes;
import io.forkyard.core.SandboxService;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine;

/** Entry point of the {@code forkyard} command (started by the {@code ./forkyard} launcher). */
public final class Main {
  /** Held so the level set on it stays (java.util.logging keeps loggers weakly). */
  private static final java.util.logging.Logger HELIDON =
      java.util.logging.Logger.getLogger("io.helidon");

  private Main() {}

  /**
   * Helidon logs its start and stop at INFO through java.util.logging, in another format than ours;
   * verbs that run a web server keep only its warnings (the daemon logs its own start).
   */
  static void quietWebServerLogs() {
    HELIDON.setLevel(java.util.logging.Level.WARNING);
  }

  public static void main(String[] args) {
    int code = run(args, System.in, System.out, System.err, System.getenv(), Main::connect);
    System.out.flush();
    System.exit(code);
  }

  /** Runs one invocation; returns its exit code. Tests call this with their own streams. */
  static int run(
      String[] args,
      InputStream in,
      PrintStream out,
      PrintStream err,
      Map<String, String> env,
      Cli.Connector connector) {
    try (Cli cli = new Cli(in, out, err, env, connector)) {
      return commandLine(cli).execute(args);
    } catch (ForkyardException e) { // from close()
      err.println("forkyard: " + e.getMessage());
      return e.code().exitCode();
    } finally {
      out.flush();
      err.flush();
    }
  }

  static CommandLine commandLine(Cli cli) {
    CommandLine cmd = new CommandLine(ForkyardCommand.class, new Factory(cli));
    cmd.setOut(new PrintWriter(cli.out, true));
    cmd.setErr(new PrintWriter(cli.err, true));
    cmd.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          ForkyardException fe = asForkyard(e);
          cli.err.println("forkyard: " + fe.getMessage());
          if (fe.code() == ErrorCode.INTERNAL && cli.env.containsKey("FORKYARD_DEBUG")) {
            e.printStackTrace(cli.err);
          }
          return fe.code().exitCode();
        });
    return cmd;
  }

  /** Every failure reaches the user as "forkyard: message" with the exit code of its kind. */
  static ForkyardException asForkyard(Exception e) {
    if (e instanceof ForkyardException fe) {
      return fe;
    }
    if (e instanceof UncheckedIOException io) {
      return new ForkyardException(ErrorCode.INTERNAL, io.getMessage(), e);
    }
    return new ForkyardException(
        ErrorCode.INTERNAL,
        "internal error: " + e + " (set FORKYARD_DEBUG=1 for a stack trace)",
        e);
  }

  /** The real SDK: the daemon when a URL is given, else the embedded service. */
  static Sandboxes connect(Cli cli) {
    if (cli.url().isPresent()) {
      return RemoteSandboxes.connect(cli.url().get(), cli.token());
    }
    Path stateDir = cli.stateDir().orElseGet(SandboxService::defaultStateDir);
    SandboxService.Builder b =
        SandboxService.builder().stateDir(stateDir).progress(cli.implicitProgress());
    if (!cli.isLongRunning()) {
      b.reaperCommand(reaperCommand(stateDir, cli.imagesDir()));
    }
    cli.imagesDir().ifPresent(b::imagesDir);
    return b.build();
  }

  /**
   * This very program, run again later by a TTL watchdog: sandboxes made by a CLI call outlive the
   * call, and their TTL must hold without a daemon.
   */
  static List<String> reaperCommand(Path stateDir, Optional<Path> imagesDir) {
    String java =
        ProcessHandle.current()
            .info()
            .command()
            .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    List<String> cmd = new ArrayList<>();
    // The launcher's short "jar:lib/*" form keeps the watchdog readable in ps.
    String classPath =
        System.getProperty("forkyard.classpath", System.getProperty("java.class.path"));
    cmd.addAll(List.of(java, "-cp", classPath, Main.class.getName()));
    cmd.addAll(List.of("--state-dir", stateDir.toAbsolutePath().toString()));
    imagesDir.ifPresent(d -> cmd.addAll(List.of("--images-dir", d.toAbsolutePath().toString())));
    cmd.addAll(List.of("internal", "reap"));
    return List.copyOf(cmd);
  }

  /** Gives every command class that wants it the invocation's {@link Cli}. */
  private record Factory(Cli cli) implements CommandLine.IFactory {
    @Override
    public <K> K create(Class<K> cls) throws Exception {
      try {
        Constructor<K> c = cls.getDeclaredConstructor(Cli.class);
        c.setAccessible(true);
        return c.newInstance(cli);
      } catch (NoSuchMethodException e) {
        return CommandLine.defaultFactory().create(cls);
      }
    }
  }
}
