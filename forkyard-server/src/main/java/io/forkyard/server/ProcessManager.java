package io.forkyard.server;

import io.forkyard.api.Command;
import io.forkyard.api.CommandResult;
import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.InvalidStateException;
import io.forkyard.api.NotFoundException;
import io.forkyard.api.OutputSink;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SandboxState;
import io.forkyard.api.Sandboxes;
import io.forkyard.client.ProcessInfo;
import io.forkyard.client.WireFormat.ProcessOutput;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Background processes, built on nothing but {@link Sandboxes#exec}: each process is one long exec
 * on its own virtual thread whose output goes into a bounded buffer that any number of followers
 * read. The command runs under a tiny {@code sh} wrapper that records its pid in the sandbox
 * ({@code /tmp/.forkyard-proc-ID.pid}) and then {@code exec}s the program, so the pid is the
 * program's own and a signal is one more exec of {@code kill} inside the sandbox. Works with every
 * runtime; needs {@code /bin/sh} and {@code kill} in the image.
 *
 * <p>Processes live as long as the daemon. {@link #close()} (a daemon stopping) interrupts the exec
 * threads, and the gVisor runtime kills an interrupted command's process group inside the sandbox,
 * so a clean stop ends them; after a crash they may live on, unmanaged, until their sandbox is
 * terminated. Either way a restarted daemon has no record or output of them.
 */
final class ProcessManager implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ProcessManager.class);
  static final Duration SIGNAL_TIMEOUT = Duration.ofSeconds(15);

  private final Sandboxes sandboxes;
  private final int bufferBytes;
  private final int maxPerSandbox;
  private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
  private final ConcurrentHashMap<SandboxId, Map<String, Proc>> bySandbox =
      new ConcurrentHashMap<>();
  private volatile boolean closed;
  private volatile boolean followersEnded;

  ProcessManager(Sandboxes sandboxes, int bufferBytes, int maxPerSandbox) {
    this.sandboxes = sandboxes;
    this.bufferBytes = bufferBytes;
    this.maxPerSandbox = maxPerSandbox;
  }

  static String pidFile(String processId) {
    return "/tmp/.forkyard-" + processId + ".pid";
  }

  /** Allowed while the sandbox is RUNNING; returns as soon as the process is under way. */
  ProcessInfo spawn(SandboxId sandbox, Command command) {
    if (closed) {
      throw new ForkyardException(ErrorCode.RUNTIME_UNAVAILABLE, "the daemon is shutting down");
    }
    SandboxState state = sandboxes.info(sandbox).state();
    if (state != SandboxState.RUNNING) {
      throw new InvalidStateException(
          "cannot start a process in " + sandbox + ": it is " + state + ", not RUNNING");
    }
    byte[] idBytes = new byte[6];
    ThreadLocalRandom.current().nextBytes(idBytes);
    String id = "proc-" + HexFormat.of().formatHex(idBytes);
    Proc proc = new Proc(id, sandbox, command.argv(), bufferBytes);
    Map<String, Proc> procs = bySandbox.computeIfAbsent(sandbox, k -> new LinkedHashMap<>());
    synchronized (procs) {
      long running = procs.values().stream().filter(p -> p.info().running()).count();
      if (running >= maxPerSandbox) {
        throw new ForkyardException(
            ErrorCode.LIMIT_EXCEEDED,
            sandbox
                + " already runs "
                + running
                + " background processes (limit "
                + maxPerSandbox
                + "); kill some first");
      }
      evictEnded(procs);
      procs.put(id, proc);
    }
    List<String> argv = new ArrayList<>();
    argv.add("/bin/sh");
    argv.add("-c");
    argv.add("echo $$ > " + pidFile(id) + "; exec \"$@\"");
    argv.add("forkyard-proc");
    argv.addAll(command.argv());
    Command wrapped =
        new Command(argv, command.env(), command.cwd(), command.timeout(), command.stdin());
    threads.submit(() -> run(proc, wrapped));
    LOG.info("process started sandbox={} process={} argv0={}", sandbox, id, command.argv().get(0));
    return proc.info();
  }

  private void evictEnded(Map<String, Proc> procs) {
    while (procs.size() >= 2 * maxPerSandbox) {
      Optional<Proc> oldest =
          procs.values().stream()
              .filter(p -> !p.info().running())
              .min(Comparator.comparing(p -> p.info().startedAt()));
      if (oldest.isEmpty()) {
        return;
      }
      procs.remove(oldest.get().id);
    }
  }

  private void run(Proc proc, Command command) {
    try {
      CommandResult r = sandboxes.exec(proc.sandbox, command, proc);
      proc.exited(
          r.exitCode(), r.timedOut() ? "killed at its timeout of " + command.timeout() : "");
      LOG.info("process ended sandbox={} process={} exit={}", proc.sandbox, proc.id, r.exitCode());
    } catch (RuntimeException e) {
      proc.failed(e.getMessage() == null ? e.toString() : e.getMessage());
      LOG.info(
          "process failed sandbox={} process={} error={}", proc.sandbox, proc.id, e.toString());
    }
    if (!closed) {
      try {
        sandboxes.exec(
            proc.sandbox, Command.of("rm", "-f", pidFile(proc.id)).withTimeout(SIGNAL_TIMEOUT));
      } catch (RuntimeException ignored) {
        // the sandbox is gone or not running: nothing to tidy
      }
    }
  }

  List<ProcessInfo> list(SandboxId sandbox) {
    sandboxes.info(sandbox);
    Map<String, Proc> procs = bySandbox.get(sandbox);
    if (procs == null) {
      return List.of();
    }
    synchronized (procs) {
      return procs.values().stream().map(Proc::info).toList();
    }
  }

  ProcessInfo info(SandboxId sandbox, String processId) {
    return find(sandbox, processId).info();
  }

  ProcessOutput output(SandboxId sandbox, String processId) {
    return find(sandbox, processId).output();
  }

  /**
   * Sends {@code signal} to a RUNNING process. A process that ends meanwhile is not an error; one
   * that had already ended is INVALID_STATE.
   */
  void signal(SandboxId sandbox, String processId, int signal) {
    Proc proc = find(sandbox, processId);
    if (!proc.info().running()) {
      throw new InvalidStateException(
          "process " + processId + " has already ended (" + proc.info().state() + ")");
    }
    String f = pidFile(processId);
    String script =
        "i=0; while [ ! -s "
            + f
            + " ]; do i=$((i+1)); [ $i -gt 50 ] && exit 3; sleep 0.1; done; "
            + "kill -"
            + signal
            + " \"$(cat "
            + f
            + ")\"";
    CommandResult r = sandboxes.exec(sandbox, Command.shell(script).withTimeout(SIGNAL_TIMEOUT));
    if (!r.succeeded() && proc.info().running()) {
      throw new ForkyardException(
          ErrorCode.INTERNAL,
          "could not signal process "
              + processId
              + " (exit "
              + r.exitCode()
              + "): "
              + r.stderr().strip());
    }
    LOG.info("process signalled sandbox={} process={} signal={}", sandbox, processId, signal);
  }

  /**
   * Streams output from the oldest byte still held until the process ends ({@code true}), the sink
   * reports the client gone, or the manager closes ({@code false}).
   */
  boolean follow(SandboxId sandbox, String processId, Follower follower) {
    Proc proc = find(sandbox, processId);
    long seen = -1;
    while (!closed && !followersEnded && !follower.gone()) {
      List<Chunk> batch;
      try {
        batch = proc.awaitAfter(seen, Duration.ofSeconds(15));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
      if (batch == null) {
        return true;
      }
      if (batch.isEmpty()) {
        follower.keepAlive();
      }
      for (Chunk c : batch) {
        follower.chunk(c.stderr, c.data);
        seen = c.seq;
      }
    }
    return false;
  }

  interface Follower {
    void chunk(boolean stderr, byte[] data);

    void keepAlive();

    boolean gone();
  }

  /**
   * Ends every follow stream now (it gets an error event): a stopping daemon waits for requests in
   * flight, and a follow of a long process would otherwise hold it for the whole grace period.
   */
  void endFollowers() {
    followersEnded = true;
    wakeAll();
  }

  private void wakeAll() {
    for (Map<String, Proc> procs : bySandbox.values()) {
      synchronized (procs) {
        procs.values().forEach(Proc::wake);
      }
    }
  }

  /** Drops the records of a terminated sandbox's processes. */
  void forget(SandboxId sandbox) {
    bySandbox.remove(sandbox);
  }

  private Proc find(SandboxId sandbox, String processId) {
    ProcessInfo.requireId(processId);
    Map<String, Proc> procs = bySandbox.get(sandbox);
    Proc proc = null;
    if (procs != null) {
      synchronized (procs) {
        proc = procs.get(processId);
      }
    }
    if (proc == null) {
      sandboxes.info(sandbox);
      throw new NotFoundException("no background process " + processId + " in " + sandbox);
    }
    return proc;
  }

  /**
   * Ends every follower and interrupts the running processes' exec threads (the runtime then kills
   * those commands in their sandboxes), waiting up to 2 s for them.
   */
  @Override
  public void close() {
    closed = true;
    wakeAll();
    threads.shutdownNow();
    try {
      threads.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  record Chunk(long seq, boolean stderr, byte[] data) {}

  /** One background process: state plus a byte-bounded buffer of its latest output. */
  static final class Proc implements OutputSink {
    final String id;
    final SandboxId sandbox;
    private final List<String> argv;
    private final Instant startedAt = Instant.now();
    private final int capacity;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Chunk> chunks = new ArrayDeque<>();
    private long bufferedBytes;
    private long nextSeq;
    private boolean truncated;
    private ProcessInfo.State state = ProcessInfo.State.RUNNING;
    private int exitCode;
    private Instant endedAt;
    private String message = "";

    Proc(String id, SandboxId sandbox, List<String> argv, int capacity) {
      this.id = id;
      this.sandbox = sandbox;
      this.argv = List.copyOf(argv);
      this.capacity = capacity;
    }

    @Override
    public void stdout(byte[] chunk, int offset, int length) {
      append(false, chunk, offset, length);
    }

    @Override
    public void stderr(byte[] chunk, int offset, int length) {
      append(true, chunk, offset, length);
    }

    void append(boolean stderr, byte[] b, int offset, int length) {
      if (length <= 0) {
        return;
      }
      if (length > capacity) {
        offset += length - capacity;
        length = capacity;
      }
      byte[] copy = Arrays.copyOfRange(b, offset, offset + length);
      lock.lock();
      try {
        chunks.addLast(new Chunk(nextSeq++, stderr, copy));
        bufferedBytes += copy.length;
        while (bufferedBytes > capacity) {
          bufferedBytes -= chunks.removeFirst().data.length;
          truncated = true;
        }
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    }

    void exited(int code, String why) {
      end(ProcessInfo.State.EXITED, code, why);
    }

    void failed(String why) {
      end(ProcessInfo.State.FAILED, -1, why);
    }

    private void end(ProcessInfo.State s, int code, String why) {
      lock.lock();
      try {
        state = s;
        exitCode = code;
        message = why == null ? "" : why;
        endedAt = Instant.now();
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    }

    void wake() {
      lock.lock();
      try {
        changed.signalAll();
      } finally {
        lock.unlock();
      }
    }

    /**
     * Chunks after {@code seq}, waiting up to {@code wait} for some; empty on timeout or wake-up,
     * {@code null} once the process has ended and everything was delivered.
     */
    List<Chunk> awaitAfter(long seq, Duration wait) throws InterruptedException {
      lock.lock();
      try {
        List<Chunk> out = after(seq);
        if (!out.isEmpty() || state != ProcessInfo.State.RUNNING) {
          return out.isEmpty() ? null : out;
        }
        changed.await(wait.toNanos(), TimeUnit.NANOSECONDS);
        out = after(seq);
        if (!out.isEmpty() || state != ProcessInfo.State.RUNNING) {
          return out.isEmpty() ? null : out;
        }
        return List.of();
      } finally {
        lock.unlock();
      }
    }

    private List<Chunk> after(long seq) {
      List<Chunk> out = new ArrayList<>();
      for (Chunk c : chunks) {
        if (c.seq > seq) {
          out.add(c);
        }
      }
      return out;
    }

    ProcessOutput output() {
      lock.lock();
      try {
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream e = new java.io.ByteArrayOutputStream();
        for (Chunk c : chunks) {
          (c.stderr ? e : o).writeBytes(c.data);
        }
        return new ProcessOutput(
            o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8), truncated);
      } finally {
        lock.unlock();
      }
    }

    ProcessInfo info() {
      lock.lock();
      try {
        return new ProcessInfo(
            id, sandbox, argv, state, exitCode, startedAt, Optional.ofNullable(endedAt), message);
      } finally {
        lock.unlock();
      }
    }
  }
}
