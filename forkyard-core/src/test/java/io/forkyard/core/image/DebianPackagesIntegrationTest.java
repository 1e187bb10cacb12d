package io.forkyard.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.NotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Downloads real packages with the host's apt against the dpkg status of the built python image
 * (bookworm minbase + python3; {@code -Dforkyard.test.rootfs}, set by ./forkyard test), only
 * reading it.
 */
@Tag("integration")
@DisabledIfSystemProperty(named = "forkyard.skipIntegration", matches = "true")
class DebianPackagesIntegrationTest {
  static final Path ROOTFS = Path.of(System.getProperty("forkyard.test.rootfs", ""));

  @TempDir Path out;

  @BeforeEach
  void needsRootfs() {
    assertThat(ROOTFS.resolve("var/lib/dpkg/status"))
        .as("python image rootfs (-Dforkyard.test.rootfs, set by ./forkyard test) must exist")
        .isRegularFile();
  }

  @Test
  void downloadsExactlyWhatTheRootfsLacks() {
    List<Path> debs = DebianPackages.download(ROOTFS, List.of("python3-bandit", "radon"), out);

    assertThat(debs).allMatch(p -> p.getParent().equals(out));
    assertThat(debs)
        .map(p -> p.getFileName().toString())
        .anyMatch(n -> n.startsWith("python3-bandit_"))
        .anyMatch(n -> n.startsWith("radon_"))
        .anyMatch(n -> n.startsWith("python3-stevedore_")) // a dependency
        .noneMatch(n -> n.startsWith("python3-minimal_")); // already in the rootfs
  }

  @Test
  void rejectsUnknownPackage() {
    assertThatThrownBy(
            () -> DebianPackages.download(ROOTFS, List.of("no-such-package-forkyard"), out))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("no-such-package-forkyard");
  }

  @Test
  void rejectsRootfsWithoutDpkg() throws Exception {
    Path empty = Files.createDirectories(out.resolve("empty"));
    assertThatThrownBy(() -> DebianPackages.download(empty, List.of("radon"), out))
        .isInstanceOf(NotFoundException.class);
  }
}
