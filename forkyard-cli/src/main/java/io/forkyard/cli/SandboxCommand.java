package io.forkyard.cli;

import io.forkyard.api.CheckpointOptions;
import io.forkyard.api.Command;
import io.forkyard.api.CommandResult;
import io.forkyard.api.ErrorCode;
import io.forkyard.api.FileEntry;
import io.forkyard.api.ForkResult;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.NetworkPolicy;
import io.forkyard.api.OutputSink;
import io.forkyard.api.Resources;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SandboxInfo;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.SnapshotId;
import io.forkyard.api.SnapshotInfo;
import io.forkyard.api.SnapshotType;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code forkyard sandbox ...}: lifecycle, commands, files, checkpoints and forks. */
@picocli.CommandLine.Command(
    name = "sandbox",
    mixinStandardHelpOptions = true,
    description = "Create, use, checkpoint, fork and remove sandboxes.",
    subcommands = {
      SandboxCommand.Create.class,
      SandboxCommand.Exec.class,
      SandboxCommand.Write.class,
      SandboxCommand.Read.class,
      SandboxCommand.Ls.class,
      SandboxCommand.Get.class,
      SandboxCommand.Checkpoint.class,
      SandboxCommand.Fork.class,
      SandboxCommand.Suspend.class,
      SandboxCommand.Resume.class,
      SandboxCommand.Rm.class
    })
final class SandboxCommand {
  /** Exit code of a command killed at its timeout, as coreutils' timeout(1) uses. */
  static final int TIMEOUT_EXIT = 124;

  private SandboxCommand() {}

  /** Options shared by create and fork: what a fork may still choose for itself. */
  static final class ForkOptions {
    @Option(names = "--timeout-secs", paramLabel = "N", description = "TTL: terminate after N s.")
    long timeoutSecs;

    @Option(names = "--name", paramLabel = "NAME", description = "A name to refer to it by.")
    String name;

    @Option(names = "--label", paramLabel = "K=V", description = "A label (repeatable).")
    Map<String, String> labels = new LinkedHashMap<>();

    @Option(names = "--env", paramLabel = "K=V", description = "Environment for its commands.")
    Map<String, String> env = new LinkedHashMap<>();

    @Option(
        names = "--allow-internet",
        description =
            "Give it outbound network access (default: no network at all; a fork: as its"
                + " snapshot).")
    boolean allowInternet;

    @Option(names = "--no-internet", description = "No network at all, even if the snapshot had.")
    boolean noInternet;

    @Option(
        names = "--allow-host",
        paramLabel = "HOST",
        description =
            "With --allow-internet: reach only these hosts, addresses or CIDR ranges"
                + " (repeatable; names are resolved once, at start).")
    List<String> allowHosts = new ArrayList<>();

    @Option(
        names = "--deny-host",
        paramLabel = "HOST",
        description = "With --allow-internet: never reach these (repeatable).")
    List<String> denyHosts = new ArrayList<>();

    SandboxSpec.Builder apply(SandboxSpec.Builder b) {
      b.timeoutSecs(timeoutSecs).labels(labels).env(env);
      if (name != null) {
        b.name(name);
      }
      network().ifPresent(b::network);
      return b;
    }

    private Optional<NetworkPolicy> network() {
      boolean lists = !allowHosts.isEmpty() || !denyHosts.isEmpty();
      if (noInternet && (allowInternet || lists)) {
        throw new InvalidRequestException(
            "--no-internet cannot go with --allow-internet, --allow-host or --deny-host");
      }
      if (lists && !allowInternet) {
        throw new InvalidRequestException("--allow-host and --deny-host need --allow-internet");
      }
      if (noInternet) {
        return Optional.of(NetworkPolicy.NONE);
      }
      if (allowInternet) {
        return Optional.of(new NetworkPolicy(true, allowHosts, denyHosts));
      }
      return Optional.empty();
    }
  }

  @picocli.CommandLine.Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description = "Create and start a sandbox from an image or a snapshot; prints its id.")
  static final class Create implements Callable<Integer> {
    private final Cli cli;

    @Option(names = "--image", paramLabel = "NAME", description = "Image (default: python).")
    String image;

    @Option(names = "--snapshot", paramLabel = "ID", description = "Fork this snapshot instead.")
    String snapshot;

    @Option(names = "--cpus", paramLabel = "N", description = "CPUs (default 1).")
    Integer cpus;

    @Option(names = "--memory-mb", paramLabel = "MIB", description = "Memory (default 512).")
    Integer memoryMb;

    @Option(
        names = "--disk-mb",
        paramLabel = "MIB",
        description = "Disk for changes (default 1024).")
    Integer diskMb;

    @picocli.CommandLine.Mixin ForkOptions options = new ForkOptions();

    Create(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      SandboxSpec.Builder b = SandboxSpec.builder();
      if (image != null) {
        b.image(image);
      }
      if (snapshot != null) {
        b.snapshot(SnapshotId.of(snapshot));
      }
      if (cpus != null || memoryMb != null || diskMb != null) {
        Resources d = Resources.DEFAULT;
        b.resources(
            new Resources(
                cpus == null ? d.cpus() : cpus,
                memoryMb == null ? d.memoryMb() : memoryMb,
                diskMb == null ? d.diskMb() : diskMb));
      }
      SandboxId id = cli.sandboxes().create(options.apply(b).build()).id();
      cli.out.println(id);
      return 0;
    }
  }

  @picocli.CommandLine.Command(
      name = "exec",
      mixinStandardHelpOptions = true,
      description = {
        "Run a command in a sandbox: its output passes through, its exit code is ours.",
        "A command killed at its timeout exits with 124."
      })
  static final class Exec implements Callable<Integer> {
    private final Cli cli;

    @Parameters(index = "0", paramLabel = "SANDBOX", description = "Sandbox id or name.")
    String sandbox;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD", description = "After --.")
    List<String> argv;

    @Option(names = "--env", paramLabel = "K=V", description = "Environment (repeatable).")
    Map<String, String> env = new LinkedHashMap<>();

    @Option(names = "--cwd", paramLabel = "DIR", description = "Working directory (default /).")
    String cwd = "/";

    @Option(names = "--timeout-secs", paramLabel = "N", description = "Kill it after N s.")
    Long timeoutSecs;

    Exec(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      Duration timeout =
          timeoutSecs == null ? Command.DEFAULT_TIMEOUT : Duration.ofSeconds(timeoutSecs);
      Command command = new Command(argv, env, cwd, timeout, new byte[0]);
      SandboxId id = cli.sandboxId(sandbox);
      PassThrough sink = new PassThrough(cli.out, cli.err);
      CommandResult result = cli.sandboxes().exec(id, command, sink);
      if (sink.bytes.get() == 0) {
        // A client that does not stream still returns the output: show it once.
        cli.out.print(result.stdout());
        cli.err.print(result.stderr());
      }
      cli.out.flush();
      cli.err.flush();
      if (result.timedOut()) {
        cli.err.println(
            "forkyard: command timed out after " + timeout.toSeconds() + " s and was killed");
        return TIMEOUT_EXIT;
      }
      return exitStatus(result.exitCode());
    }
  }

  /** A shell's view of an exit code: a signal N (reported as -N) becomes 128+N. */
  static int exitStatus(int exitCode) {
    return exitCode < 0 ? 128 + Math.min(-exitCode, 127) : exitCode & 0xff;
  }

  /** Streams a command's output to ours as it comes. */
  static final class PassThrough implements OutputSink {
    private final PrintStream out;
    private final PrintStream err;
    final AtomicLong bytes = new AtomicLong();

    PassThrough(PrintStream out, PrintStream err) {
      this.out = out;
      this.err = err;
    }

    @Override
    public void stdout(byte[] chunk, int offset, int length) {
      bytes.addAndGet(length);
      synchronized (out) {
        out.write(chunk, offset, length);
        out.flush();
      }
    }

    @Override
    public void stderr(byte[] chunk, int offset, int length) {
      bytes.addAndGet(length);
      synchronized (err) {
        err.write(chunk, offset, length);
        err.flush();
      }
    }
  }

  @picocli.CommandLine.Command(
      name = "write",
      mixinStandardHelpOptions = true,
      description = "Write standard input to a file in the sandbox.")
  static final class Write implements Callable<Integer> {
    private final Cli cli;

    @Parameters(index = "0", paramLabel = "SANDBOX")
    String sandbox;

    @Parameters(index = "1", paramLabel = "PATH", description = "Absolute sandbox path.")
    String path;

    Write(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      SandboxId id = cli.sandboxId(sandbox);
      byte[] content;
      try {
        content = cli.in.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read standard input: " + e.getMessage(), e);
      }
      cli.sandboxes().writeFile(id, path, content);
      return 0;
    }
  }

  @picocli.CommandLine.Command(
      name = "read",
      mixinStandardHelpOptions = true,
      description = "Write a sandbox file's bytes to standard output.")
  static final class Read implements Callable<Integer> {
    private final Cli cli;

    @Parameters(index = "0", paramLabel = "SANDBOX")
    String sandbox;

    @Parameters(index = "1", paramLabel = "PATH", description = "Absolute sandbox path.")
    String path;

    Read(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      byte[] content = cli.sandboxes().readFile(cli.sandboxId(sandbox), path);
      cli.out.write(content, 0, content.length);
      cli.out.flush();
      return 0;
    }
  }

  @picocli.CommandLine.Command(
      name = "ls",
      mixinStandardHelpOptions = true,
      description = "List sandboxes, or a directory inside one (ls SANDBOX PATH).")
  static final class Ls implements Callable<Integer> {
    private final Cli cli;

    @Parameters(index = "0", arity = "0..1", paramLabel = "SANDBOX")
    String sandbox;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PATH")
    String path;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Option(
        names = {"-a", "--all"},
        description = "Include terminated sandboxes.")
    boolean all;

    Ls(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      if (sandbox != null) {
        return listDirectory();
      }
      List<SandboxInfo> sandboxes =
          cli.sandboxes().list().stream().filter(s -> all || !s.state().isFinal()).toList();
      if (json) {
        Output.json(cli.out, sandboxes.stream().map(Output::sandbox).toList());
        return 0;
      }
      Output.Table t =
          new Output.Table("ID", "NAME", "STATE", "IMAGE", "FROM", "CREATED", "EXPIRES");
      for (SandboxInfo s : sandboxes) {
        t.row(
            s.id(),
            s.name(),
            s.state(),
            s.image(),
            s.sourceSnapshot().map(SnapshotId::value).orElse(""),
            Output.time(s.createdAt()),
            Output.time(s.expiresAt()));
      }
      t.print(cli.out);
      return 0;
    }

    private int listDirectory() {
      List<FileEntry> entries =
          cli.sandboxes().listDirectory(cli.sandboxId(sandbox), path == null ? "/" : path);
      if (json) {
        Output.json(cli.out, entries.stream().map(Output::file).toList());
        return 0;
      }
      Output.Table t = new Output.Table("TYPE", "MODE", "SIZE", "MODIFIED", "NAME");
      for (FileEntry e : entries) {
        t.row(
            e.type().name().toLowerCase(),
            String.format("%04o", e.mode() & 07777),
            e.sizeBytes(),
            Output.time(e.modifiedAt()),
            e.name());
      }
      t.print(cli.out);
      return 0;
    }
  }

  @picocli.CommandLine.Command(
      name = "get",
      mixinStandardHelpOptions = true,
      description = "Show one sandbox.")
  static final class Get implements Callable<Integer> {
    private final Cli cli;

    @Parameters(index = "0", paramLabel = "SANDBOX")
    String sandbox;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    Get(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      SandboxInfo info = cli.sandboxes().info(cli.sandboxId(sandbox));
      if (json) {
        Output.json(cli.out, Output.sandbox(info));
      } else {
        Output.keyValues(cli.out, Output.sandbox(info));
      }
      return 0;
    }
  }

  @picocli.CommandLine.Command(
      name = "checkpoint",
      mixinStandardHelpOptions = true,
      description = "Snapshot a running sandbox; prints the snapshot id.")
  static final class Checkpoint implements Callable<Integer> {
    private final Cli cli;

    @Parameters(index = "0", paramLabel = "SANDBOX")
    String sandbox;

    @Option(
        names = "--type",
        paramLabel = "TYPE",
        description = "MEMORY (processes and RAM kept, default) or FILESYSTEM (files only).")
    SnapshotType type = SnapshotType.MEMORY;

    @Option(names = "--stop", description = "Terminate the sandbox once the snapshot is complete.")
    boolean stop;

    @Option(names = "--label", paramLabel = "K=V", description = "A label (repeatable).")
    Map<String, String> labels = new LinkedHashMap<>();

    Checkpoint(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      SnapshotInfo snap =
          cli.sandboxes()
              .checkpoint(cli.sandboxId(sandbox), new CheckpointOptions(type, stop, labels));
      cli.out.println(snap.id());
      return 0;
    }
  }

  @picocli.CommandLine.Command(
      name = "fork",
      mixinStandardHelpOptions = true,
      description = {
        "Fork sandboxes from a snapshot; prints one id per line.",
        "Copies that fail are reported on stderr and make the exit code non-zero."
      })
  static final class Fork implements Callable<Integer> {
    private final Cli cli;

    @Parameters(index = "0", paramLabel = "SNAPSHOT")
    String snapshot;

    @Option(names = "--count", paramLabel = "N", description = "How many copies (default 1).")
    int count = 1;

    @picocli.CommandLine.Mixin ForkOptions options = new ForkOptions();

    Fork(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      SandboxSpec spec =
          options.apply(SandboxSpec.builder().snapshot(SnapshotId.of(snapshot))).build();
      List<ForkResult> results = cli.sandboxes().fork(spec, count);
      int exit = 0;
      for (ForkResult r : results) {
        if (r.ok()) {
          cli.out.println(r.sandbox().orElseThrow().id());
        } else {
          ErrorCode code = r.errorCode().orElse(ErrorCode.INTERNAL);
          cli.err.println("forkyard: fork #" + r.index() + " failed: " + r.errorMessage());
          if (exit == 0) {
            exit = code.exitCode();
          }
        }
      }
      return exit;
    }
  }

  @picocli.CommandLine.Command(
      name = "suspend",
      mixinStandardHelpOptions = true,
      description = "Save a running sandbox to disk and stop it (resume brings it back).")
  static final class Suspend implements Callable<Integer> {
    private final Cli cli;

    @Parameters(index = "0", paramLabel = "SANDBOX")
    String sandbox;

    Suspend(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      cli.sandboxes().suspend(cli.sandboxId(sandbox));
      return 0;
    }
  }

  @picocli.CommandLine.Command(
      name = "resume",
      mixinStandardHelpOptions = true,
      description = "Bring a suspended sandbox back under the same id.")
  static final class Resume implements Callable<Integer> {
    private final Cli cli;

    @Parameters(index = "0", paramLabel = "SANDBOX")
    String sandbox;

    Resume(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      cli.sandboxes().resume(cli.sandboxId(sandbox));
      return 0;
    }
  }

  @picocli.CommandLine.Command(
      name = "rm",
      mixinStandardHelpOptions = true,
      description = "Terminate sandboxes and free what they hold.")
  static final class Rm implements Callable<Integer> {
    private final Cli cli;

    @Parameters(arity = "1..*", paramLabel = "SANDBOX")
    List<String> sandboxes = new ArrayList<>();

    Rm(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      int exit = 0;
      for (String ref : sandboxes) {
        try {
          cli.sandboxes().terminate(cli.sandboxId(ref));
        } catch (RuntimeException e) {
          var fe = Main.asForkyard(e);
          cli.err.println("forkyard: " + fe.getMessage());
          if (exit == 0) {
            exit = fe.code().exitCode();
          }
        }
      }
      return exit;
    }
  }
}
