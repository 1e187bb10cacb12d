package io.forkyard.core;

import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Serializes state changes of one object across threads of this process (a lock per key) and across
 * processes sharing the state directory (a file lock), e.g. a CLI call and the daemon.
 *
 * <p>The in-process locks are shared by every instance in the JVM, keyed by lock file: the JVM
 * holds file locks per process, so a second service on the same state directory in one JVM would
 * otherwise reach {@code FileChannel.lock} while the first holds it and get an {@code
 * OverlappingFileLockException} instead of waiting.
 */
final class SandboxLocks {
  private static final ConcurrentHashMap<Path, ReentrantLock> LOCAL = new ConcurrentHashMap<>();
  private final Path lockDir;

  SandboxLocks(Path lockDir) {
    this.lockDir = lockDir.toAbsolutePath().normalize();
  }

  private ReentrantLock local(String key) {
    return LOCAL.computeIfAbsent(file(key), k -> new ReentrantLock());
  }

  private Path file(String key) {
    return lockDir.resolve(key + ".lock");
  }

  interface Held extends AutoCloseable {
    @Override
    void close();
  }

  Held lock(String key) {
    ReentrantLock l = local(key);
    l.lock();
    try {
      Files.createDirectories(lockDir);
      FileChannel ch =
          FileChannel.open(file(key), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock fl = ch.lock();
      return () -> {
        try {
          fl.release();
          ch.close();
        } catch (IOException ignored) {
          // closing the channel releases the lock anyway
        } finally {
          l.unlock();
        }
      };
    } catch (IOException | RuntimeException e) {
      l.unlock();
      throw new ForkyardException(
          ErrorCode.INTERNAL, "cannot lock " + key + ": " + e.getMessage(), e);
    }
  }

  /**
   * The lock if nobody holds it right now, else empty: tells "an operation is under way" (its
   * holder, in this or another live process, keeps it) from "the process doing it died" (the OS
   * released its file lock).
   */
  Optional<Held> tryLock(String key) {
    ReentrantLock l = local(key);
    if (!l.tryLock()) {
      return Optional.empty();
    }
    try {
      Files.createDirectories(lockDir);
      FileChannel ch =
          FileChannel.open(file(key), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock fl = ch.tryLock();
      if (fl == null) {
        ch.close();
        l.unlock();
        return Optional.empty();
      }
      return Optional.of(
          () -> {
            try {
              fl.release();
              ch.close();
            } catch (IOException ignored) {
              // closing the channel releases the lock anyway
            } finally {
              l.unlock();
            }
          });
    } catch (IOException | RuntimeException e) {
      l.unlock();
      throw new ForkyardException(
          ErrorCode.INTERNAL, "cannot lock " + key + ": " + e.getMessage(), e);
    }
  }

  void forget(String key) {
    LOCAL.computeIfPresent(file(key), (k, l) -> l.isLocked() || l.hasQueuedThreads() ? l : null);
    try {
      Files.deleteIfExists(file(key));
    } catch (IOException ignored) {
      // a stale lock file is harmless
    }
  }
}
