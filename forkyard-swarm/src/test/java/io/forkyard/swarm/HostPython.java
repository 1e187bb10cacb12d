package io.forkyard.swarm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the worker and the real tools with the host's Debian python (bandit and radon installed).
 */
final class HostPython {
  static final String PYTHON = "/usr/bin/python3";

  record Result(int exit, String stdout, String stderr) {}

  private HostPython() {}

  static Path extractWorker(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.write(
        dir.resolve("worker.py"), TargetFiles.resourceBytes("/io/forkyard/swarm/worker/worker.py"));
    Files.write(
        dir.resolve("client.py"), TargetFiles.resourceBytes("/io/forkyard/swarm/worker/client.py"));
    return dir;
  }

  static Path codebase(String name, Path dir) throws IOException {
    if (name.equals("sample")) {
      TargetFiles.sample().writeTo(dir);
    } else {
      Path src = Path.of("src/test/resources/codebases", name);
      try (var walk = Files.walk(src)) {
        for (Path p : walk.toList()) {
          Path to = dir.resolve(src.relativize(p).toString());
          if (Files.isDirectory(p)) {
            Files.createDirectories(to);
          } else {
            Files.createDirectories(to.getParent());
            Files.copy(p, to);
          }
        }
      }
    }
    return dir;
  }

  static Result run(Path cwd, Map<String, String> env, String... argv) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(argv));
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile());
    pb.environment().putAll(env);
    Path out = Files.createTempFile("fy-swarm-out", ".txt");
    Path err = Files.createTempFile("fy-swarm-err", ".txt");
    try {
      Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("timed out: " + cmd);
      }
      return new Result(
          p.exitValue(),
          Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }
}
