package io.forkyard.swarm;

import static org.assertj.core.api.Assertions.assertThat;

import io.forkyard.api.CommandResult;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class AgentRunTest {
  private static AgentRun.Outcome parse(int exit, String stdout, boolean timedOut) {
    return AgentRun.parse(
        "security",
        new CommandResult(exit, stdout, "trace", timedOut, false, false, Duration.ZERO),
        Duration.ofSeconds(5),
        0.1);
  }

  @Test
  void acceptsOneJsonLine() {
    AgentRun.Outcome o =
        parse(
            0,
            "{\"perspective\":\"security\",\"score\":40,\"finding\":\"f\",\"details\":{\"issues\":3}}\n",
            false);
    assertThat(o.error()).isEmpty();
    assertThat(o.score()).isEqualTo(40);
    assertThat(o.details()).containsEntry("issues", 3);
  }

  @Test
  void rejectsTimeout() {
    assertThat(parse(-9, "", true).error()).hasValue("timed out after 5 s");
  }

  @Test
  void rejectsCrash() {
    assertThat(parse(-11, "", false).error().get()).contains("signal 11", "trace");
  }

  @Test
  void crashNamesTheExceptionNotTheMiddleOfTheTraceback() {
    String traceback =
        "Traceback (most recent call last):\n"
            + "  File \"/opt/forkyard-swarm/worker.py\", line 400, in analyse\n".repeat(20)
            + "RuntimeError: deliberate crash\n";
    AgentRun.Outcome o =
        AgentRun.parse(
            "crash",
            new CommandResult(1, "", traceback, false, false, false, Duration.ZERO),
            Duration.ofSeconds(5),
            0.1);
    assertThat(o.error())
        .hasValue("analysis crashed (exit code 1): RuntimeError: deliberate crash");
  }

  @Test
  void rejectsNoOutputBadJsonAndWrongShape() {
    assertThat(parse(0, "", false).error().get()).contains("got 0");
    assertThat(parse(0, "not json\n", false).error().get()).contains("not JSON");
    assertThat(parse(0, "[1]\n", false).error().get()).contains("not a JSON object");
    assertThat(parse(0, "{\"score\":500,\"finding\":\"f\",\"details\":{}}", false).error().get())
        .contains("score");
    assertThat(
            parse(
                    0,
                    "{\"score\":5,\"finding\":\"f\",\"details\":{},\"perspective\":\"tests\"}",
                    false)
                .error()
                .get())
        .contains("got tests");
  }
}
