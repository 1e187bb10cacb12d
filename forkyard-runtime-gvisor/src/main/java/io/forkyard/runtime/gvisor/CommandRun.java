package io.forkyard.runtime.gvisor;

import io.forkyard.api.OutputSink;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * Reads one output stream of a command: every chunk goes to the sink as it arrives, the first
 * {@code cap} bytes are kept, the rest is read and dropped so the process never blocks on a full
 * pipe.
 */
final class CommandRun {
  private CommandRun() {}

  static final class Collector {
    private final InputStream in;
    private final long cap;
    private final ChunkSink sink;
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile boolean detached;
    private boolean truncated;

    interface ChunkSink {
      void accept(byte[] chunk, int offset, int length);
    }

    Collector(InputStream in, long cap, ChunkSink sink) {
      this.in = in;
      this.cap = cap;
      this.sink = sink;
    }

    static Collector stdout(InputStream in, long cap, OutputSink sink) {
      return new Collector(in, cap, sink::stdout);
    }

    static Collector stderr(InputStream in, long cap, OutputSink sink) {
      return new Collector(in, cap, sink::stderr);
    }

    /**
     * A platform thread: the OS schedules it as soon as output arrives, where a virtual thread
     * would queue behind every other runnable task of a busy daemon and miss the output grace.
     */
    Collector start() {
      Thread.ofPlatform().daemon().name("fy-gvisor-output").start(this::run);
      return this;
    }

    private void run() {
      byte[] buf = new byte[65536];
      try (in) {
        int n;
        while ((n = in.read(buf)) >= 0) {
          if (detached) {
            continue;
          }
          if (n > 0) {
            synchronized (this) {
              long room = cap - kept.size();
              if (room >= n) {
                kept.write(buf, 0, n);
              } else {
                if (room > 0) {
                  kept.write(buf, 0, (int) room);
                }
                truncated = true;
              }
            }
            sink.accept(buf, 0, n);
          }
        }
      } catch (IOException e) {
        // The pipe was closed under us after the command ended; what was read is kept.
      } finally {
        done.countDown();
      }
    }

    /**
     * Waits for end of stream. A background process started by the command may hold the pipe open
     * past the command's exit; after {@code graceMillis} the collector stops delivering and returns
     * what it has.
     */
    void await(long graceMillis) throws InterruptedException {
      if (!done.await(graceMillis, TimeUnit.MILLISECONDS)) {
        detached = true;
      }
    }

    synchronized byte[] bytes() {
      return kept.toByteArray();
    }

    synchronized boolean truncated() {
      return truncated;
    }
  }

  /** Feeds stdin on its own thread so a command that does not read it cannot deadlock us. */
  static void feed(OutputStream out, byte[] data, IntConsumer onError) {
    Thread.ofVirtual()
        .name("fy-gvisor-stdin")
        .start(
            () -> {
              try (out) {
                if (data.length > 0) {
                  out.write(data);
                }
              } catch (IOException e) {
                onError.accept(data.length);
              }
            });
  }
}
