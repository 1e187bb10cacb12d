package io.forkyard.swarm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DebDownloaderTest {
  @TempDir Path cache;

  /**
   * The no-snapshot comparison installs tools in 20 sandboxes at once from one JVM: a file lock
   * taken by a second thread of the same JVM used to fail with OverlappingFileLockException.
   */
  @Test
  void manyThreadsOfOneJvmShareTheCache() throws Exception {
    byte[] status =
        "Package: base-files\nStatus: install ok installed\n".getBytes(StandardCharsets.UTF_8);
    List<String> packages = List.of("radon");
    Files.createDirectories(cache.resolve("archives"));
    Files.createDirectories(cache.resolve("sets"));
    Files.writeString(cache.resolve("archives/radon_5.1.0-2_all.deb"), "deb");
    Files.writeString(
        cache.resolve("sets").resolve(DebDownloader.key(status, packages) + ".list"),
        "radon_5.1.0-2_all.deb\n");
    DebDownloader debs = new DebDownloader(cache);

    ExecutorService pool = Executors.newFixedThreadPool(20);
    try {
      List<Future<DebDownloader.Debs>> all = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        all.add(pool.submit(() -> debs.resolve(status, packages)));
      }
      for (Future<DebDownloader.Debs> f : all) {
        DebDownloader.Debs d = f.get();
        assertThat(d.fromCache()).isTrue();
        assertThat(d.files())
            .extracting(p -> p.getFileName().toString())
            .containsExactly("radon_5.1.0-2_all.deb");
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
