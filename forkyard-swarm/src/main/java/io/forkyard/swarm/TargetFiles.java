package io.forkyard.swarm;

import io.forkyard.api.InvalidRequestException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * The code base copied into the base sandbox: Python files only. Everything else is counted as
 * skipped, so the user sees what was left out.
 *
 * @param description where the files came from (a path or "bundled sample")
 * @param files relative path (with '/') and content, sorted by path
 * @param skipped files left out because they are not Python source (or too large)
 */
record TargetFiles(String description, List<TargetFile> files, int skipped) {
  static final long MAX_FILE_BYTES = 2L * 1024 * 1024;
  static final long MAX_TOTAL_BYTES = 64L * 1024 * 1024;
  private static final Set<String> SKIPPED_DIRS =
      Set.of("__pycache__", "node_modules", "venv", ".venv", "build", "dist");
  private static final String SAMPLE = "/io/forkyard/swarm/sample/";

  record TargetFile(String path, byte[] content) {}

  TargetFiles {
    files = List.copyOf(files);
  }

  long totalBytes() {
    return files.stream().mapToLong(f -> f.content().length).sum();
  }

  static TargetFiles sample() {
    List<TargetFile> files = new ArrayList<>();
    int skipped = 0;
    for (String path : resourceText(SAMPLE + "INDEX").split("\n")) {
      if (path.isBlank()) {
        continue;
      }
      if (path.endsWith(".py")) {
        files.add(new TargetFile(path, resourceBytes(SAMPLE + path)));
      } else {
        skipped++;
      }
    }
    files.sort(Comparator.comparing(TargetFile::path));
    return new TargetFiles("bundled sample", files, skipped);
  }

  static TargetFiles load(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new InvalidRequestException("target is not a directory: " + dir);
    }
    List<TargetFile> files = new ArrayList<>();
    int[] skipped = {0};
    long[] total = {0};
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
              String name = d.getFileName() == null ? "" : d.getFileName().toString();
              if (!d.equals(dir) && (name.startsWith(".") || SKIPPED_DIRS.contains(name))) {
                return FileVisitResult.SKIP_SUBTREE;
              }
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              String name = file.getFileName().toString();
              if (!attrs.isRegularFile()
                  || !name.endsWith(".py")
                  || name.startsWith(".")
                  || attrs.size() > MAX_FILE_BYTES) {
                skipped[0]++;
                return FileVisitResult.CONTINUE;
              }
              total[0] += attrs.size();
              if (total[0] > MAX_TOTAL_BYTES) {
                throw new InvalidRequestException(
                    "target has more than "
                        + MAX_TOTAL_BYTES / (1024 * 1024)
                        + " MiB of Python source; point --target at a smaller directory");
              }
              String rel = dir.relativize(file).toString().replace('\\', '/');
              files.add(new TargetFile(rel, Files.readAllBytes(file)));
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read target " + dir + ": " + e.getMessage(), e);
    }
    if (files.isEmpty()) {
      throw new InvalidRequestException(
          "target " + dir + " has no Python files (" + skipped[0] + " other files skipped)");
    }
    files.sort(Comparator.comparing(TargetFile::path));
    return new TargetFiles(dir.toAbsolutePath().normalize().toString(), files, skipped[0]);
  }

  static byte[] resourceBytes(String name) {
    try (InputStream in = TargetFiles.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("resource missing from the forkyard-swarm jar: " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String resourceText(String name) {
    return new String(resourceBytes(name), StandardCharsets.UTF_8);
  }

  /** Writes the files below {@code dir} on the host (tests and host-side checks). */
  void writeTo(Path dir) throws IOException {
    for (TargetFile f : files) {
      Path p = dir.resolve(f.path());
      Files.createDirectories(p.getParent());
      Files.write(p, f.content());
    }
  }
}
