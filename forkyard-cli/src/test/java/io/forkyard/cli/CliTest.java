package io.forkyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkyard.api.CommandResult;
import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.NetworkPolicy;
import io.forkyard.api.Resources;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.SandboxState;
import io.forkyard.api.SnapshotId;
import io.forkyard.api.SnapshotType;
import io.forkyard.testkit.FakeSandboxes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class CliTest {
  private final FakeSandboxes fake = FakeSandboxes.scripted();
  private final AtomicReference<Cli> lastCli = new AtomicReference<>();
  private byte[] stdin = new byte[0];
  private Map<String, String> env = Map.of();
  private ByteArrayOutputStream out;
  private ByteArrayOutputStream err;

  private int run(String... args) {
    out = new ByteArrayOutputStream();
    err = new ByteArrayOutputStream();
    return Main.run(
        args,
        new ByteArrayInputStream(stdin),
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8),
        env,
        cli -> {
          lastCli.set(cli);
          return fake;
        });
  }

  private String out() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  private SandboxId created() {
    assertThat(run("sandbox", "create")).isZero();
    return SandboxId.of(out().strip());
  }

  @Test
  void createPrintsOnlyTheNewId() {
    assertThat(run("sandbox", "create")).isZero();
    assertThat(out()).matches("sb-[0-9a-f]{12}\n");
    assertThat(fake.sandboxes).containsKey(SandboxId.of(out().strip()));
  }

  @Test
  void createPassesEveryOptionIntoTheSpec() {
    int code =
        run(
            "sandbox",
            "create",
            "--image",
            "tools",
            "--cpus",
            "2",
            "--memory-mb",
            "256",
            "--timeout-secs",
            "60",
            "--name",
            "agent-1",
            "--label",
            "team=a",
            "--label",
            "x=y",
            "--env",
            "GREETING=hello world",
            "--allow-internet");
    assertThat(code).isZero();
    SandboxSpec spec = fake.specs.get(0);
    assertThat(spec.image()).contains("tools");
    assertThat(spec.resources()).contains(new Resources(2, 256, Resources.DEFAULT.diskMb()));
    assertThat(spec.timeoutSecs()).isEqualTo(60);
    assertThat(spec.name()).contains("agent-1");
    assertThat(spec.labels()).containsEntry("team", "a").containsEntry("x", "y");
    assertThat(spec.env()).containsEntry("GREETING", "hello world");
    assertThat(spec.network().orElseThrow().allowInternetAccess()).isTrue();
  }

  @Test
  void createWithoutResourceOptionsLeavesResourcesToTheService() {
    assertThat(run("sandbox", "create")).isZero();
    assertThat(fake.specs.get(fake.specs.size() - 1).resources()).isEmpty();
  }

  @Test
  void rejectsMalformedSnapshotIdWithInvalidRequestExitCode() {
    assertThat(run("sandbox", "create", "--snapshot", "nope"))
        .isEqualTo(ErrorCode.INVALID_REQUEST.exitCode());
    assertThat(err()).startsWith("forkyard: not a snapshot id");
    assertThat(out()).isEmpty();
  }

  @Test
  void rejectsOutOfRangeResourcesBeforeCreating() {
    assertThat(run("sandbox", "create", "--cpus", "0")).isEqualTo(2);
    assertThat(err()).contains("cpus must be between 1 and 64");
    assertThat(fake.sandboxes).isEmpty();
  }

  @Test
  void execStreamsOutputAndPassesEnvCwdAndTimeout() {
    SandboxId id = created();
    int code =
        run(
            "sandbox",
            "exec",
            id.value(),
            "--env",
            "A=x y",
            "--cwd",
            "/tmp",
            "--timeout-secs",
            "7",
            "--",
            "echo",
            "-n",
            "hi");
    assertThat(code).isZero();
    assertThat(out()).isEqualTo("echo -n hi\n");
    var cmd = fake.commands.get(0);
    assertThat(cmd.argv()).containsExactly("echo", "-n", "hi");
    assertThat(cmd.env()).containsEntry("A", "x y");
    assertThat(cmd.cwd()).isEqualTo("/tmp");
    assertThat(cmd.timeout()).isEqualTo(Duration.ofSeconds(7));
  }

  @Test
  void execExitsWithTheCommandsExitCodeAndPassesStderr() {
    SandboxId id = created();
    fake.onExec =
        (c, sink) -> {
          byte[] e = "boom\n".getBytes(StandardCharsets.UTF_8);
          sink.stderr(e, 0, e.length);
          return new CommandResult(42, "", "boom\n", false, false, false, Duration.ZERO);
        };
    assertThat(run("sandbox", "exec", id.value(), "--", "false")).isEqualTo(42);
    assertThat(err()).isEqualTo("boom\n");
    assertThat(out()).isEmpty();
  }

  @Test
  void execReportsATimeoutWithExitCode124() {
    SandboxId id = created();
    fake.onExec = (c, sink) -> new CommandResult(-9, "", "", true, false, false, Duration.ZERO);
    assertThat(run("sandbox", "exec", id.value(), "--timeout-secs", "1", "--", "sleep", "9"))
        .isEqualTo(124);
    assertThat(err()).contains("timed out after 1 s");
  }

  @Test
  void execMapsAKillingSignalToTheShellConvention() {
    SandboxId id = created();
    fake.onExec = (c, sink) -> new CommandResult(-9, "", "", false, false, false, Duration.ZERO);
    assertThat(run("sandbox", "exec", id.value(), "--", "sh")).isEqualTo(137);
  }

  @Test
  void execShowsBufferedOutputWhenTheClientDoesNotStream() {
    SandboxId id = created();
    fake.onExec =
        (c, sink) -> new CommandResult(0, "late\n", "", false, false, false, Duration.ZERO);
    assertThat(run("sandbox", "exec", id.value(), "--", "x")).isZero();
    assertThat(out()).isEqualTo("late\n");
  }

  @Test
  void rejectsExecWithoutCommand() {
    SandboxId id = created();
    assertThat(run("sandbox", "exec", id.value())).isEqualTo(2);
    assertThat(fake.commands).isEmpty();
  }

  @Test
  void rejectsExecOnTerminatedSandboxWithInvalidStateExitCode() {
    SandboxId id = created();
    assertThat(run("sandbox", "rm", id.value())).isZero();
    assertThat(run("sandbox", "exec", id.value(), "--", "true"))
        .isEqualTo(ErrorCode.INVALID_STATE.exitCode());
    assertThat(err()).startsWith("forkyard: ");
  }

  @Test
  void rejectsUnknownSandboxWithNotFoundExitCode() {
    assertThat(run("sandbox", "exec", "sb-000000000000", "--", "true"))
        .isEqualTo(ErrorCode.NOT_FOUND.exitCode());
    assertThat(err()).isEqualTo("forkyard: no sandbox sb-000000000000\n");
  }

  @Test
  void writeReadsStdinAndReadWritesRawBytes() {
    SandboxId id = created();
    byte[] binary = {0, (byte) 0xff, 10, 13, (byte) 0x80, 'a'};
    stdin = binary;
    assertThat(run("sandbox", "write", id.value(), "/work/blob.bin")).isZero();
    assertThat(fake.files.get(id).get("/work/blob.bin")).isEqualTo(binary);
    stdin = new byte[0];
    assertThat(run("sandbox", "read", id.value(), "/work/blob.bin")).isZero();
    assertThat(out.toByteArray()).isEqualTo(binary);
  }

  @Test
  void sandboxesCanBeNamedInsteadOfIds() {
    assertThat(run("sandbox", "create", "--name", "base")).isZero();
    SandboxId id = SandboxId.of(out().strip());
    assertThat(run("sandbox", "exec", "base", "--", "true")).isZero();
    assertThat(run("sandbox", "get", "base", "--json")).isZero();
    assertThat(out()).contains(id.value());
    assertThat(run("sandbox", "exec", "nobody", "--", "true"))
        .isEqualTo(ErrorCode.NOT_FOUND.exitCode());
  }

  @Test
  void lsListsLiveSandboxesAsTableAndJson() throws Exception {
    SandboxId a = created();
    SandboxId b = created();
    run("sandbox", "rm", b.value());
    assertThat(run("sandbox", "ls")).isZero();
    assertThat(out()).startsWith("ID").contains(a.value()).doesNotContain(b.value());
    assertThat(run("sandbox", "ls", "--all", "--json")).isZero();
    JsonNode json = new ObjectMapper().readTree(out());
    assertThat(json).hasSize(2);
    assertThat(json.get(0).get("id").asText()).isEqualTo(a.value());
    assertThat(json.get(0).get("state").asText()).isEqualTo("RUNNING");
    assertThat(json.get(0).get("resources").get("memoryMb").asInt()).isEqualTo(512);
  }

  @Test
  void lsOfASandboxPathListsItsDirectory() {
    SandboxId id = created();
    stdin = "x".getBytes(StandardCharsets.UTF_8);
    run("sandbox", "write", id.value(), "/tmp/a.txt");
    assertThat(run("sandbox", "ls", id.value(), "/tmp")).isZero();
    assertThat(out()).contains("a.txt").contains("0644");
  }

  @Test
  void checkpointPrintsTheSnapshotIdAndPassesType() {
    SandboxId id = created();
    assertThat(run("sandbox", "checkpoint", id.value(), "--type", "FILESYSTEM", "--stop")).isZero();
    assertThat(out()).matches("snap-[0-9a-f]{12}\n");
    assertThat(fake.checkpoints.get(0).type()).isEqualTo(SnapshotType.FILESYSTEM);
    assertThat(fake.checkpoints.get(0).stopAfter()).isTrue();
    assertThat(run("sandbox", "checkpoint", id.value()))
        .isEqualTo(ErrorCode.INVALID_STATE.exitCode());
  }

  @Test
  void forkPrintsOneIdPerCopy() {
    SandboxId id = created();
    run("sandbox", "checkpoint", id.value());
    String snap = out().strip();
    assertThat(run("sandbox", "fork", snap, "--count", "3", "--allow-internet")).isZero();
    List<String> ids = out().lines().toList();
    assertThat(ids).hasSize(3).allMatch(s -> s.matches("sb-[0-9a-f]{12}")).doesNotHaveDuplicates();
    assertThat(err()).isEmpty();
    SandboxSpec spec = fake.specs.get(fake.specs.size() - 1);
    assertThat(spec.snapshot()).contains(SnapshotId.of(snap));
    assertThat(spec.network().orElseThrow().allowInternetAccess()).isTrue();
  }

  @Test
  void networkOptionsBecomeThePolicyAndContradictionsAreRefused() {
    SandboxId id = created();
    run("sandbox", "checkpoint", id.value());
    String snap = out().strip();
    assertThat(run("sandbox", "fork", snap, "--no-internet")).isZero();
    assertThat(fake.specs.get(fake.specs.size() - 1).network()).contains(NetworkPolicy.NONE);
    assertThat(run("sandbox", "fork", snap)).isZero();
    assertThat(fake.specs.get(fake.specs.size() - 1).network()).isEmpty();

    assertThat(
            run(
                "sandbox",
                "create",
                "--allow-internet",
                "--allow-host",
                "pypi.org",
                "--allow-host",
                "10.0.0.0/8",
                "--deny-host",
                "10.1.2.3"))
        .isZero();
    NetworkPolicy net = fake.specs.get(fake.specs.size() - 1).network().orElseThrow();
    assertThat(net.allowInternetAccess()).isTrue();
    assertThat(net.allowList()).containsExactly("pypi.org", "10.0.0.0/8");
    assertThat(net.denyList()).containsExactly("10.1.2.3");

    int specs = fake.specs.size();
    assertThat(run("sandbox", "create", "--allow-host", "pypi.org"))
        .isEqualTo(ErrorCode.INVALID_REQUEST.exitCode());
    assertThat(err()).contains("--allow-internet");
    assertThat(run("sandbox", "fork", snap, "--no-internet", "--allow-internet"))
        .isEqualTo(ErrorCode.INVALID_REQUEST.exitCode());
    assertThat(fake.specs).hasSize(specs);
  }

  @Test
  void forkReportsFailedCopiesOnStderrAndExitsNonZero() {
    SandboxId id = created();
    run("sandbox", "checkpoint", id.value());
    String snap = out().strip();
    fake.failingForks = List.of(1);
    int code = run("sandbox", "fork", snap, "--count", "3");
    assertThat(code).isEqualTo(ErrorCode.INVALID_STATE.exitCode());
    assertThat(out().lines()).hasSize(2);
    assertThat(err()).contains("fork #1 failed: copy 1 broke");
  }

  @Test
  void suspendAndResumeKeepTheId() {
    SandboxId id = created();
    assertThat(run("sandbox", "suspend", id.value())).isZero();
    assertThat(fake.sandboxes.get(id).state()).isEqualTo(SandboxState.SUSPENDED);
    assertThat(run("sandbox", "resume", id.value())).isZero();
    assertThat(fake.sandboxes.get(id).state()).isEqualTo(SandboxState.RUNNING);
  }

  @Test
  void rmGoesOnPastAnUnknownIdAndFailsAtTheEnd() {
    SandboxId id = created();
    assertThat(run("sandbox", "rm", "sb-000000000000", id.value()))
        .isEqualTo(ErrorCode.NOT_FOUND.exitCode());
    assertThat(fake.sandboxes.get(id).state()).isEqualTo(SandboxState.TERMINATED);
  }

  @Test
  void snapshotVerbsListShowAndDelete() throws Exception {
    SandboxId id = created();
    run("sandbox", "checkpoint", id.value());
    String snap = out().strip();
    assertThat(run("snapshot", "ls")).isZero();
    assertThat(out()).contains(snap).contains("MEMORY").contains("COMPLETED");
    assertThat(run("snapshot", "ls", "--json")).isZero();
    assertThat(new ObjectMapper().readTree(out()).get(0).get("id").asText()).isEqualTo(snap);
    assertThat(run("snapshot", "show", snap)).isZero();
    assertThat(out()).contains("sourceSandbox").contains(id.value());
    assertThat(run("snapshot", "rm", snap)).isZero();
    assertThat(run("snapshot", "show", snap)).isEqualTo(ErrorCode.NOT_FOUND.exitCode());
  }

  @Test
  void imageBuildTurnsFlagsIntoARecipe() {
    int code =
        run(
            "image",
            "build",
            "tools",
            "--package",
            "radon",
            "--package",
            "python3-bandit",
            "--file",
            "/srv/app:/opt/app");
    assertThat(code).isZero();
    assertThat(out()).isEqualTo("tools\n");
    var recipe = fake.recipes.get(0);
    assertThat(recipe.packages()).containsExactly("radon", "python3-bandit");
    assertThat(recipe.files()).containsEntry("/opt/app", "/srv/app");
    assertThat(err()).contains("image tools: debootstrap").contains("image tools: packages");
  }

  @Test
  void imageBuildOfPythonKeepsPython3() {
    assertThat(run("image", "build", "python", "--package", "radon")).isZero();
    assertThat(fake.recipes.get(0).packages()).containsExactly("python3", "radon");
  }

  @Test
  void rejectsImageFileWithoutTarget() {
    assertThat(run("image", "build", "tools", "--file", "/srv/app")).isEqualTo(2);
    assertThat(err()).contains("HOST_PATH:SANDBOX_PATH");
  }

  @Test
  void imageLsAndRm() throws Exception {
    run("image", "build", "tools");
    assertThat(run("image", "ls", "--json")).isZero();
    assertThat(new ObjectMapper().readTree(out()).get(0).get("name").asText()).isEqualTo("tools");
    assertThat(run("image", "rm", "tools")).isZero();
    assertThat(run("image", "rm", "tools")).isEqualTo(ErrorCode.NOT_FOUND.exitCode());
  }

  @ParameterizedTest
  @EnumSource(ErrorCode.class)
  void everyErrorCodeBecomesItsExitCodeWithAMessage(ErrorCode code) {
    fake.failWith = new ForkyardException(code, "it went wrong: " + code);
    assertThat(run("sandbox", "ls")).isEqualTo(code.exitCode());
    assertThat(err()).isEqualTo("forkyard: it went wrong: " + code + "\n");
  }

  @Test
  void unexpectedExceptionsAreInternalErrors() {
    fake.failWith = null;
    fake.onExec =
        (c, sink) -> {
          throw new IllegalStateException("bug");
        };
    SandboxId id = created();
    assertThat(run("sandbox", "exec", id.value(), "--", "x")).isEqualTo(1);
    assertThat(err()).startsWith("forkyard: internal error: java.lang.IllegalStateException: bug");
  }

  @Test
  void unknownVerbIsAUsageError() {
    assertThat(run("sandbox", "explode")).isEqualTo(2);
    assertThat(err()).contains("Unmatched argument");
  }

  @Test
  void helpNeedsNoService() {
    assertThat(run("--help")).isZero();
    assertThat(out()).contains("sandbox").contains("snapshot").contains("image");
    assertThat(lastCli.get()).isNull();
  }

  @Test
  void globalOptionsWorkBeforeAndAfterTheVerb() {
    run("--state-dir", "/tmp/a", "sandbox", "ls");
    assertThat(lastCli.get().stateDir()).contains(Path.of("/tmp/a"));
    run("sandbox", "ls", "--state-dir", "/tmp/b");
    assertThat(lastCli.get().stateDir()).contains(Path.of("/tmp/b"));
  }

  @Test
  void urlComesFromTheFlagOrTheEnvironment() {
    env = Map.of("FORKYARD_URL", "http://127.0.0.1:7420");
    run("sandbox", "ls");
    assertThat(lastCli.get().url())
        .hasValueSatisfying(u -> assertThat(u.getPort()).isEqualTo(7420));
    run("--url", "http://127.0.0.1:9999", "sandbox", "ls");
    assertThat(lastCli.get().url())
        .hasValueSatisfying(u -> assertThat(u.getPort()).isEqualTo(9999));
  }

  @Test
  void tokenComesFromTheEnvironmentElseTheStateDirectorysTokenFile(@TempDir Path dir)
      throws Exception {
    Files.createDirectories(dir.resolve("daemon"));
    Files.writeString(dir.resolve("daemon/token"), "from-the-file-0123456789\n");
    run("--state-dir", dir.toString(), "sandbox", "ls");
    assertThat(lastCli.get().token()).isEqualTo("from-the-file-0123456789");
    env = Map.of("FORKYARD_TOKEN", "from-the-env-0123456789");
    run("--state-dir", dir.toString(), "sandbox", "ls");
    assertThat(lastCli.get().token()).isEqualTo("from-the-env-0123456789");
    env = Map.of();
    run("--state-dir", dir.resolve("none").toString(), "sandbox", "ls");
    assertThat(lastCli.get().token()).isEmpty();
  }

  @Test
  void serveRefusesAUrl() {
    assertThat(run("--url", "http://127.0.0.1:7420", "serve")).isEqualTo(2);
    assertThat(err()).contains("drop --url");
    assertThat(lastCli.get()).isNull();
  }

  @Test
  void theServiceIsClosedAfterEveryInvocation() {
    run("sandbox", "ls");
    assertThat(fake.closed).isTrue();
  }
}
