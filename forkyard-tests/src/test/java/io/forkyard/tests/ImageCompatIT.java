package io.forkyard.tests;

import static org.assertj.core.api.Assertions.assertThat;

import io.forkyard.api.Command;
import io.forkyard.api.CommandResult;
import io.forkyard.api.Sandbox;
import io.forkyard.api.SandboxSpec;
import io.forkyard.testkit.RealService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Everyday tools of the default image work inside a sandbox. runsc 2022 rejects a statx flag that
 * coreutils 9 passes on every stat, which broke `ls DIR` and `stat`; images preload a shim for it.
 */
@Tag("integration")
class ImageCompatIT {
  private RealService real;

  @BeforeEach
  void open() throws Exception {
    real = RealService.start();
  }

  @AfterEach
  void cleanUp() {
    if (real != null) {
      real.close();
    }
  }

  @Test
  void coreutilsListAndStatWorkInASandbox() {
    try (Sandbox sb = real.service.create(SandboxSpec.builder().timeoutSecs(300).build())) {
      sb.writeFile("/work/sub/a.txt", "x");
      CommandResult ls = sb.run(Command.shell("ls /work/sub && ls -la / | grep -c proc"));
      assertThat(ls.exitCode()).as("ls stderr: %s", ls.stderr()).isZero();
      assertThat(ls.stdout()).startsWith("a.txt\n1");

      CommandResult stat = sb.run("stat", "-c", "%s %F", "/work/sub/a.txt");
      assertThat(stat.exitCode()).as("stat stderr: %s", stat.stderr()).isZero();
      assertThat(stat.stdout().strip()).isEqualTo("1 regular file");
    }
  }
}
