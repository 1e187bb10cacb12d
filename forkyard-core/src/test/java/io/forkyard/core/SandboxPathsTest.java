package io.forkyard.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.forkyard.api.InvalidRequestException;
import org.junit.jupiter.api.Test;

class SandboxPathsTest {
  @Test
  void normalizesSlashesAndDots() {
    assertThat(SandboxPaths.check("/a//b/./c/")).isEqualTo("/a/b/c");
    assertThat(SandboxPaths.check("/")).isEqualTo("/");
  }

  @Test
  void rejectsPathOutsideSandboxWithDotDot() {
    assertThatThrownBy(() -> SandboxPaths.check("/tmp/../../etc/passwd"))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("..");
  }

  @Test
  void rejectsRelativeEmptyAndNulPaths() {
    assertThatThrownBy(() -> SandboxPaths.check("etc/passwd"))
        .isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> SandboxPaths.check("")).isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> SandboxPaths.check("/a\0b"))
        .isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> SandboxPaths.check("/" + "a".repeat(5000)))
        .isInstanceOf(InvalidRequestException.class);
  }
}
