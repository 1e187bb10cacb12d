package io.forkyard.core.spi;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A lock on a file that excludes both the other threads of this JVM and other processes on the
 * host. Java holds file locks per process, so a second thread of the same JVM reaching {@code
 * FileChannel.lock} on a file this JVM already locks gets an {@code OverlappingFileLockException}
 * instead of waiting: threads therefore queue on one in-JVM lock per file first (shared by every
 * caller in the JVM, whatever object asked), then take the file lock. Not reentrant.
 */
public final class HostLock implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HostLock.class);
  private static final ConcurrentHashMap<Path, ReentrantLock> IN_JVM = new ConcurrentHashMap<>();

  private final Path file;
  private final ReentrantLock jvm;
  private final FileChannel channel;
  private final FileLock lock;
  private boolean closed;

  private HostLock(Path file, ReentrantLock jvm, FileChannel channel, FileLock lock) {
    this.file = file;
    this.jvm = jvm;
    this.channel = channel;
    this.lock = lock;
  }

  /** Waits for the lock on {@code file} (created, with its directory, if missing). */
  public static HostLock acquire(Path file) {
    return acquire(file, () -> {});
  }

  /**
   * Waits for the lock on {@code file}, running {@code beforeWaiting} each time it has to wait (for
   * a thread of this JVM, then for another process), e.g. to tell a user why nothing happens.
   */
  public static HostLock acquire(Path file, Runnable beforeWaiting) {
    Path key = key(file);
    ReentrantLock jvm = IN_JVM.computeIfAbsent(key, k -> new ReentrantLock());
    if (!jvm.tryLock()) {
      beforeWaiting.run();
      jvm.lock();
    }
    return open(key, jvm, Optional.of(beforeWaiting)).orElseThrow();
  }

  /** The lock on {@code file} if nobody in this JVM or on the host holds it now, else empty. */
  public static Optional<HostLock> tryAcquire(Path file) {
    Path key = key(file);
    ReentrantLock jvm = IN_JVM.computeIfAbsent(key, k -> new ReentrantLock());
    if (!jvm.tryLock()) {
      return Optional.empty();
    }
    return open(key, jvm, Optional.empty());
  }

  /** Drops the in-JVM lock of {@code file} if nobody holds or waits for it (a deleted object). */
  public static void forget(Path file) {
    IN_JVM.computeIfPresent(key(file), (k, l) -> l.isLocked() || l.hasQueuedThreads() ? l : null);
  }

  /** With the in-JVM lock held: the file lock, waiting only if {@code beforeWaiting} is given. */
  private static Optional<HostLock> open(
      Path file, ReentrantLock jvm, Optional<Runnable> beforeWaiting) {
    FileChannel ch = null;
    try {
      Files.createDirectories(file.getParent());
      ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock fl = ch.tryLock();
      if (fl == null) {
        if (beforeWaiting.isEmpty()) {
          closeQuietly(ch);
          jvm.unlock();
          return Optional.empty();
        }
        beforeWaiting.get().run();
        fl = ch.lock();
      }
      return Optional.of(new HostLock(file, jvm, ch, fl));
    } catch (IOException | RuntimeException e) {
      closeQuietly(ch);
      jvm.unlock();
      throw e instanceof IOException io
          ? new UncheckedIOException("cannot lock " + file, io)
          : (RuntimeException) e;
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      lock.release();
      channel.close();
    } catch (IOException e) {
      // closing the channel releases the lock anyway
      LOG.warn("releasing {}: {}", file, e.toString());
    } finally {
      jvm.unlock();
    }
  }

  private static Path key(Path file) {
    return file.toAbsolutePath().normalize();
  }

  private static void closeQuietly(FileChannel ch) {
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // the lock was never taken; nothing to release
      }
    }
  }
}
