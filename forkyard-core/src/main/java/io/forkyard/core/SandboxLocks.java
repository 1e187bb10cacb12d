package io.forkyard.core;

import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import io.forkyard.core.spi.HostLock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Serializes state changes of one object across threads of this process and across processes
 * sharing the state directory (e.g. a CLI call and the daemon): a {@link HostLock} on {@code
 * <lockDir>/<key>.lock}. Its in-process part is shared by every instance in the JVM, so two
 * services on one state directory in one JVM wait for each other instead of failing.
 */
final class SandboxLocks {
  private final Path lockDir;

  SandboxLocks(Path lockDir) {
    this.lockDir = lockDir.toAbsolutePath().normalize();
  }

  private Path file(String key) {
    return lockDir.resolve(key + ".lock");
  }

  HostLock lock(String key) {
    try {
      return HostLock.acquire(file(key));
    } catch (RuntimeException e) {
      throw new ForkyardException(
          ErrorCode.INTERNAL, "cannot lock " + key + ": " + e.getMessage(), e);
    }
  }

  /**
   * The lock if nobody holds it right now, else empty: tells "an operation is under way" (its
   * holder, in this or another live process, keeps it) from "the process doing it died" (the OS
   * released its file lock).
   */
  Optional<HostLock> tryLock(String key) {
    try {
      return HostLock.tryAcquire(file(key));
    } catch (RuntimeException e) {
      throw new ForkyardException(
          ErrorCode.INTERNAL, "cannot lock " + key + ": " + e.getMessage(), e);
    }
  }

  void forget(String key) {
    HostLock.forget(file(key));
    try {
      Files.deleteIfExists(file(key));
    } catch (IOException ignored) {
      // a stale lock file is harmless
    }
  }
}
