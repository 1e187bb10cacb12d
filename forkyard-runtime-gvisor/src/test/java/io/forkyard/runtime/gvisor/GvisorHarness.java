package io.forkyard.runtime.gvisor;

import static org.assertj.core.api.Assertions.assertThat;

import io.forkyard.api.Command;
import io.forkyard.api.NetworkPolicy;
import io.forkyard.api.OutputSink;
import io.forkyard.api.Resources;
import io.forkyard.api.SandboxId;
import io.forkyard.core.spi.ExecResult;
import io.forkyard.core.spi.RuntimeSandbox;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;

/**
 * Base of the integration tests: a fresh runtime with its own state dir per test, and every sandbox
 * a test made destroyed afterwards, also when the test failed.
 */
abstract class GvisorHarness {
  static final long CAP = 1 << 20;

  GvisorRuntime runtime;
  Path stateDir;
  Path rootfs;
  final List<SandboxId> made = new ArrayList<>();

  @BeforeEach
  void setUpRuntime() throws IOException {
    Assumptions.assumeFalse(
        Boolean.getBoolean("forkyard.skipIntegration"),
        "integration tests disabled with -Dforkyard.skipIntegration=true");
    String given = System.getProperty("forkyard.test.rootfs", "");
    assertThat(given)
        .as(
            "no test rootfs: run the tests with ./forkyard test, or pass -Dforkyard.test.rootfs=DIR")
        .isNotBlank();
    rootfs = Path.of(given);
    assertThat(rootfs.resolve("bin/sh"))
        .as("test rootfs %s is missing: build it with ./forkyard image build python", rootfs)
        .exists();
    stateDir = Files.createTempDirectory(Path.of("/tmp"), "fy-runtime-test-");
    runtime = new GvisorRuntime();
    runtime.init(stateDir);
    runtime.checkAvailable();
  }

  @AfterEach
  void destroyEverything() throws IOException {
    if (runtime == null) {
      return;
    }
    List<Throwable> errors = new ArrayList<>();
    for (SandboxId id : made) {
      try {
        runtime.destroy(id);
      } catch (RuntimeException e) {
        errors.add(e);
      }
    }
    for (SandboxId id : runtime.liveSandboxes()) {
      runtime.destroy(id);
    }
    try (Stream<Path> walk = Files.walk(stateDir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
    assertThat(errors).isEmpty();
  }

  RuntimeSandbox sandbox() {
    return sandbox(Resources.DEFAULT, NetworkPolicy.NONE);
  }

  RuntimeSandbox sandbox(Resources resources, NetworkPolicy network) {
    SandboxId id = SandboxId.random();
    made.add(id);
    Path dir = stateDir.resolve("sandboxes").resolve(id.value());
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new RuntimeSandbox(
        id,
        dir,
        rootfs,
        resources,
        network,
        "fy-" + id.value().substring(3),
        Map.of("FY_BASE", "1"));
  }

  /** Same rootfs and resources as {@code base}, new id, dir and hostname: a fork. */
  RuntimeSandbox forkOf(RuntimeSandbox base) {
    RuntimeSandbox s = sandbox(base.resources(), base.network());
    return new RuntimeSandbox(
        s.id(), s.dir(), base.rootfs(), base.resources(), s.network(), s.hostname(), base.env());
  }

  RuntimeSandbox started() {
    RuntimeSandbox sb = sandbox();
    runtime.start(sb);
    return sb;
  }

  ExecResult run(RuntimeSandbox sb, Command c) {
    return runtime.exec(sb, c, OutputSink.DISCARD, CAP);
  }

  String sh(RuntimeSandbox sb, String script) {
    ExecResult r = run(sb, Command.shell(script));
    assertThat(r.exitCode()).as("exit of %s, stderr %s", script, stderr(r)).isZero();
    return stdout(r);
  }

  static String stdout(ExecResult r) {
    return new String(r.stdout(), StandardCharsets.UTF_8);
  }

  static String stderr(ExecResult r) {
    return new String(r.stderr(), StandardCharsets.UTF_8);
  }
}
