package io.forkyard.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.forkyard.api.ImageInfo;
import io.forkyard.api.ImageRecipe;
import io.forkyard.api.NotFoundException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;

/** One real debootstrap build (~30-50 s, needs root, debootstrap and the Debian mirror). */
@Tag("integration")
@DisabledIfSystemProperty(named = "forkyard.skipIntegration", matches = "true")
class ImageStoreIntegrationTest {
  Path dir;

  @AfterEach
  void cleanUp() {
    if (dir != null) {
      Trees.deleteTree(dir);
    }
  }

  @Test
  void buildsOnceCachesAndDeletes() throws Exception {
    dir = Files.createTempDirectory("fy-image-it-");
    Path hostFile = Files.writeString(dir.resolve("greeting.txt"), "hello from the host\n");
    ImageStore store = ImageStore.create(dir.resolve("images"));
    ImageRecipe recipe =
        new ImageRecipe(
            "tiny", "bookworm", List.of(), Map.of("/opt/fy/greeting.txt", hostFile.toString()));

    List<String> steps = Collections.synchronizedList(new ArrayList<>());
    List<long[]> counts = Collections.synchronizedList(new ArrayList<>());
    ImageInfo built =
        store.ensure(
            recipe,
            (step, done, total) -> {
              steps.add(step);
              counts.add(new long[] {done, total});
            });

    assertThat(built.name()).isEqualTo("tiny");
    assertThat(built.sizeBytes()).isGreaterThan(50_000_000L);
    assertThat(steps)
        .contains(
            DebootstrapProgress.DOWNLOADING,
            DebootstrapProgress.UNPACKING,
            DebootstrapProgress.CONFIGURING,
            "Image tiny ready");
    assertThat(counts).allMatch(c -> c[1] < 0 || c[0] <= c[1]);

    Path rootfs = store.rootfs("tiny");
    assertThat(rootfs.resolve("bin/sh")).exists();
    assertThat(rootfs.resolve("opt/fy/greeting.txt")).hasContent("hello from the host");
    assertThat(Files.getAttribute(rootfs.resolve("tmp"), "unix:mode", LinkOption.NOFOLLOW_LINKS))
        .isEqualTo(041777);
    try (var debs = Files.list(rootfs.resolve("var/cache/apt/archives"))) {
      assertThat(debs.map(Path::toString)).noneMatch(n -> n.endsWith(".deb"));
    }
    try (var entries = Files.list(dir.resolve("images/tiny"))) {
      assertThat(entries.map(p -> p.getFileName().toString()))
          .noneMatch(n -> n.startsWith(ImageStore.BUILD_PREFIX));
    }

    // Second ensure: served from the manifest; same builtAt means no rebuild happened.
    List<String> again = new ArrayList<>();
    ImageInfo cached = store.ensure(recipe, (step, done, total) -> again.add(step));
    assertThat(cached).isEqualTo(built);
    assertThat(again).isEmpty();
    assertThat(ImageStore.create(dir.resolve("images")).ensure("tiny", (s, d, t) -> again.add(s)))
        .isEqualTo(built);
    assertThat(again).isEmpty();
    assertThat(store.list()).containsExactly(built);

    store.delete("tiny");
    assertThat(store.find("tiny")).isEmpty();
    assertThat(dir.resolve("images/tiny")).doesNotExist();
    assertThatThrownBy(() -> store.rootfs("tiny")).isInstanceOf(NotFoundException.class);
  }
}
