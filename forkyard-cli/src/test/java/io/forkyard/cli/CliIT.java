package io.forkyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.forkyard.api.ErrorCode;
import io.forkyard.core.SandboxService;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CLI end to end on real gVisor sandboxes: every step is a separate {@code forkyard} process on
 * one state directory, as a user's shell would run them.
 */
@Tag("integration")
class CliIT {
  private Path stateDir;

  record Run(int exit, byte[] stdout, String stderr) {
    String out() {
      return new String(stdout, StandardCharsets.UTF_8);
    }
  }

  @BeforeEach
  void setUp() throws IOException {
    Assumptions.assumeFalse(
        Boolean.getBoolean("forkyard.skipIntegration"),
        "integration tests disabled with -Dforkyard.skipIntegration=true");
    stateDir = Files.createTempDirectory(Path.of("/tmp"), "fy-cli-it-");
  }

  /** Terminates whatever the test left, stops the TTL watchdogs the CLI calls started. */
  @AfterEach
  void tearDown() throws Exception {
    if (stateDir == null) {
      return;
    }
    List<String> ids = new ArrayList<>();
    try {
      Run ls = cli(new byte[0], "sandbox", "ls", "--all", "--json");
      for (JsonNode s : new ObjectMapper().readTree(ls.stdout())) {
        ids.add(s.get("id").asText());
        if (!List.of("TERMINATED", "TIMED_OUT", "FAILED").contains(s.get("state").asText())) {
          cli(new byte[0], "sandbox", "rm", s.get("id").asText());
        }
      }
      Run snaps = cli(new byte[0], "snapshot", "ls", "--json");
      for (JsonNode s : new ObjectMapper().readTree(snaps.stdout())) {
        cli(new byte[0], "snapshot", "rm", s.get("id").asText());
      }
    } finally {
      Watchdogs.stop(stateDir);
      try (Stream<Path> s = Files.walk(stateDir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void createWriteExecCheckpointForkRemoveAcrossInvocations() throws Exception {
    Run create = cli(new byte[0], "sandbox", "create", "--timeout-secs", "300");
    assertThat(create.exit()).as(create.stderr()).isZero();
    String id = create.out().strip();
    assertThat(id).matches("sb-[0-9a-f]{12}");

    byte[] script = "import sys\nprint(6 * 7)\nprint('to stderr', file=sys.stderr)\n".getBytes();
    assertThat(cli(script, "sandbox", "write", id, "/work/calc.py").exit()).isZero();

    Run exec = cli(new byte[0], "sandbox", "exec", id, "--", "python3", "/work/calc.py");
    assertThat(exec.exit()).as(exec.stderr()).isZero();
    assertThat(exec.out()).isEqualTo("42\n");
    assertThat(exec.stderr()).contains("to stderr");

    Run failing =
        cli(new byte[0], "sandbox", "exec", id, "--env", "CODE=3", "--", "sh", "-c", "exit $CODE");
    assertThat(failing.exit()).isEqualTo(3);

    Run checkpoint = cli(new byte[0], "sandbox", "checkpoint", id);
    assertThat(checkpoint.exit()).as(checkpoint.stderr()).isZero();
    String snap = checkpoint.out().strip();
    assertThat(snap).matches("snap-[0-9a-f]{12}");

    Run fork = cli(new byte[0], "sandbox", "fork", snap, "--count", "2");
    assertThat(fork.exit()).as(fork.stderr()).isZero();
    List<String> forks = fork.out().lines().toList();
    assertThat(forks).hasSize(2).allMatch(f -> f.matches("sb-[0-9a-f]{12}")).doesNotContain(id);

    for (String f : forks) {
      Run inFork = cli(new byte[0], "sandbox", "read", f, "/work/calc.py");
      assertThat(inFork.exit()).as(inFork.stderr()).isZero();
      assertThat(inFork.stdout()).isEqualTo(script);
    }

    Run rm = cli(new byte[0], "sandbox", "rm", id, forks.get(0), forks.get(1));
    assertThat(rm.exit()).as(rm.stderr()).isZero();
    Run afterRm = cli(new byte[0], "sandbox", "exec", id, "--", "true");
    assertThat(afterRm.exit()).isEqualTo(ErrorCode.INVALID_STATE.exitCode());
    assertThat(afterRm.stderr()).startsWith("forkyard: ");

    JsonNode live =
        new ObjectMapper().readTree(cli(new byte[0], "sandbox", "ls", "--json").stdout());
    assertThat(live).isEmpty();
    assertThat(cli(new byte[0], "snapshot", "rm", snap).exit()).isZero();
  }

  @Test
  void rejectsUnknownSandboxWithNotFoundExitCode() throws Exception {
    Run r = cli(new byte[0], "sandbox", "exec", "sb-000000000000", "--", "true");
    assertThat(r.exit()).isEqualTo(ErrorCode.NOT_FOUND.exitCode());
    assertThat(r.stderr()).startsWith("forkyard: ");
  }

  private Run cli(byte[] stdin, String... args) throws Exception {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(List.of("--state-dir", stateDir.toString(), "--images-dir", imagesDir().toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).start();
    CompletableFuture<byte[]> out = drain(p.getInputStream());
    CompletableFuture<byte[]> err = drain(p.getErrorStream());
    try (OutputStream in = p.getOutputStream()) {
      in.write(stdin);
    }
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("forkyard " + String.join(" ", args) + " did not finish in 5 min");
    }
    return new Run(p.exitValue(), out.get(), new String(err.get(), StandardCharsets.UTF_8));
  }

  private static CompletableFuture<byte[]> drain(InputStream s) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (s) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            s.transferTo(b);
            return b.toByteArray();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  /** Built images are shared with the default state directory, so tests don't debootstrap. */
  private static Path imagesDir() {
    String p = System.getProperty("forkyard.test.images", "");
    return p.isBlank() ? SandboxService.defaultStateDir().resolve("images") : Path.of(p);
  }
}
