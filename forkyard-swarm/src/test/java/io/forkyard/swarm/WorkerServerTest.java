package io.forkyard.swarm;

import static org.assertj.core.api.Assertions.assertThat;

import io.forkyard.api.CommandResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The warm worker and the agent client on the host: one JSON line per request, and a misbehaving
 * perspective becomes that agent's error through {@link AgentRun#parse}.
 */
class WorkerServerTest {
  @TempDir Path tmp;
  private Process worker;
  private Path socket;
  private Path dir;

  @BeforeEach
  void start() throws Exception {
    dir = HostPython.extractWorker(tmp.resolve("w"));
    Path target = HostPython.codebase("sample", tmp.resolve("t"));
    Path persp = Files.createDirectories(tmp.resolve("p"));
    Files.writeString(
        persp.resolve("todo.py"),
        """
        def analyze(target):
            hits = [{"file": f.path, "line": i + 1, "severity": "LOW", "title": "TODO"}
                    for f in target.files for i, l in enumerate(f.source.splitlines()) if "TODO" in l]
            return {"score": 100 - 10 * len(hits), "finding": "%d TODOs" % len(hits),
                    "details": {"todos": len(hits), "locations": hits}}
        """);
    Files.writeString(
        persp.resolve("chatty.py"),
        """
        def analyze(target):
            print("debug: looking around")
            return {"score": 50, "finding": "chatty", "details": {}}
        """);
    Files.writeString(
        persp.resolve("crashing.py"),
        """
        import os
        def analyze(target):
            os._exit(7)
        """);
    Files.writeString(
        persp.resolve("raising.py"),
        """
        def analyze(target):
            raise RuntimeError("boom")
        """);
    socket = tmp.resolve("w.sock");
    worker =
        new ProcessBuilder(
                HostPython.PYTHON,
                dir.resolve("worker.py").toString(),
                "serve",
                "--socket",
                socket.toString(),
                "--target",
                target.toString(),
                "--perspectives",
                persp.toString())
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("worker.log").toFile())
            .start();
    HostPython.Result ping =
        HostPython.run(
            tmp,
            Map.of("FORKYARD_SWARM_SOCKET", socket.toString()),
            HostPython.PYTHON,
            dir.resolve("client.py").toString(),
            "--ping",
            "30");
    assertThat(ping.exit()).as(ping.stderr()).isZero();
    assertThat(ping.stdout()).contains("security", "todo", "chatty");
  }

  @AfterEach
  void stop() throws Exception {
    if (worker != null) {
      worker.destroy();
      if (!worker.waitFor(5, TimeUnit.SECONDS)) {
        worker.destroyForcibly();
      }
    }
  }

  private AgentRun.Outcome ask(String perspective) throws Exception {
    HostPython.Result r =
        HostPython.run(
            tmp,
            Map.of("FORKYARD_SWARM_SOCKET", socket.toString(), "PERSPECTIVE", perspective),
            HostPython.PYTHON,
            "-S",
            dir.resolve("client.py").toString());
    CommandResult cr =
        new CommandResult(r.exit(), r.stdout(), r.stderr(), false, false, false, Duration.ZERO);
    return AgentRun.parse(perspective, cr, Duration.ofSeconds(60), 0);
  }

  @Test
  void everyBuiltInAnswersWithOneJsonLine() throws Exception {
    for (String p : Perspectives.BUILTIN) {
      AgentRun.Outcome o = ask(p);
      assertThat(o.error()).as(p).isEmpty();
      assertThat(o.finding()).isNotBlank();
    }
    assertThat(ask("security").details()).containsKeys("issues", "high", "findings");
  }

  @Test
  void repeatedRequestsGiveTheSameAnswer() throws Exception {
    assertThat(ask("complexity").details()).isEqualTo(ask("complexity").details());
  }

  @Test
  void userScriptIsAPerspective() throws Exception {
    AgentRun.Outcome o = ask("todo");
    assertThat(o.error()).isEmpty();
    assertThat(o.details()).containsEntry("todos", 0);
  }

  @Test
  void extraStdoutIsAnAgentError() throws Exception {
    assertThat(ask("chatty").error())
        .hasValueSatisfying(e -> assertThat(e).contains("exactly one JSON line", "got 2"));
  }

  @Test
  void crashIsAnAgentErrorAndTheWorkerLivesOn() throws Exception {
    assertThat(ask("crashing").error())
        .hasValueSatisfying(e -> assertThat(e).contains("exit code 7"));
    assertThat(ask("raising").error())
        .hasValueSatisfying(e -> assertThat(e).contains("crashed", "RuntimeError: boom"));
    assertThat(ask("security").error()).isEmpty();
  }

  @Test
  void unknownPerspectiveIsRefusedByTheWorker() throws Exception {
    assertThat(ask("nope").error())
        .hasValueSatisfying(e -> assertThat(e).contains("unknown perspective"));
  }
}
