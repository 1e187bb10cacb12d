package io.forkyard.api;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A program to run inside a sandbox. The argv is passed as is (no shell); env values reach the
 * program byte for byte, spaces and quotes included.
 *
 * @param argv program and arguments, not empty
 * @param env extra environment variables
 * @param cwd absolute working directory inside the sandbox
 * @param timeout after this the command is killed and reported as timed out
 * @param stdin bytes fed to the command's standard input (empty: none)
 */
public record Command(
    List<String> argv, Map<String, String> env, String cwd, Duration timeout, byte[] stdin) {
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);
  public static final Duration MAX_TIMEOUT = Duration.ofHours(24);

  public Command {
    if (argv == null || argv.isEmpty() || argv.get(0) == null || argv.get(0).isBlank()) {
      throw new InvalidRequestException("a command needs at least a program name");
    }
    for (String a : argv) {
      if (a == null || a.indexOf('\0') >= 0) {
        throw new InvalidRequestException("command arguments must not be null or contain NUL");
      }
    }
    argv = List.copyOf(argv);
    env = Map.copyOf(env == null ? Map.of() : env);
    for (var e : env.entrySet()) {
      if (e.getKey().isEmpty()
          || e.getKey().indexOf('=') >= 0
          || e.getKey().indexOf('\0') >= 0
          || e.getValue().indexOf('\0') >= 0) {
        throw new InvalidRequestException("bad environment variable name or value: " + e.getKey());
      }
    }
    cwd = cwd == null || cwd.isEmpty() ? "/" : cwd;
    if (!cwd.startsWith("/") || cwd.indexOf('\0') >= 0) {
      throw new InvalidRequestException("cwd must be an absolute sandbox path, got '" + cwd + "'");
    }
    timeout = timeout == null ? DEFAULT_TIMEOUT : timeout;
    if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(MAX_TIMEOUT) > 0) {
      throw new InvalidRequestException("timeout must be between 1 ms and 24 h, got " + timeout);
    }
    stdin = stdin == null ? new byte[0] : stdin.clone();
  }

  public static Command of(String... argv) {
    return new Command(List.of(argv), Map.of(), "/", DEFAULT_TIMEOUT, new byte[0]);
  }

  public static Command of(List<String> argv) {
    return new Command(argv, Map.of(), "/", DEFAULT_TIMEOUT, new byte[0]);
  }

  /** Runs {@code script} with {@code /bin/sh -c}. */
  public static Command shell(String script) {
    return of("/bin/sh", "-c", script);
  }

  public Command withEnv(Map<String, String> extra) {
    Map<String, String> merged = new LinkedHashMap<>(env);
    merged.putAll(extra);
    return new Command(argv, merged, cwd, timeout, stdin);
  }

  public Command withEnv(String name, String value) {
    return withEnv(Map.of(name, value));
  }

  public Command withCwd(String dir) {
    return new Command(argv, env, dir, timeout, stdin);
  }

  public Command withTimeout(Duration limit) {
    return new Command(argv, env, cwd, limit, stdin);
  }

  public Command withStdin(byte[] input) {
    return new Command(argv, env, cwd, timeout, input);
  }

  @Override
  public byte[] stdin() {
    return stdin.clone();
  }
}
