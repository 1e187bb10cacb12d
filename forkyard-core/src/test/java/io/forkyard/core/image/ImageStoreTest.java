package io.forkyard.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.forkyard.api.ForkyardException;
import io.forkyard.api.ImageInfo;
import io.forkyard.api.ImageRecipe;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.NotFoundException;
import io.forkyard.api.ProgressListener;
import io.forkyard.core.spi.HostLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Everything but a real build: images here are fabricated trees with hand-written manifests. */
class ImageStoreTest {
  @TempDir Path dir;
  ImageStore store;

  @BeforeEach
  void setUp() {
    // A mirror that cannot work: a test that wrongly triggers a build fails fast.
    store = ImageStore.create(dir, "file:/nonexistent-forkyard-mirror");
  }

  /** Lays out what a successful build leaves behind. */
  ImageManifest fabricate(ImageRecipe recipe) throws Exception {
    String hash = Recipes.hash(recipe);
    String tree = hash.substring(0, 12) + "-1";
    Path imageDir = Files.createDirectories(dir.resolve(recipe.name()));
    Files.createDirectories(imageDir.resolve(tree).resolve("etc"));
    ImageManifest m =
        new ImageManifest(
            Recipes.BUILD_FORMAT,
            recipe.name(),
            hash,
            recipe,
            tree,
            1234,
            2,
            Instant.parse("2026-12-03T10:00:00Z"),
            "http://deb.debian.org/debian",
            40_000);
    Recipes.writeAtomically(imageDir.resolve(ImageStore.MANIFEST), m);
    return m;
  }

  @Test
  void ensureReturnsCachedImageFromManifestWithoutBuilding() throws Exception {
    ImageManifest m = fabricate(ImageRecipe.python());
    List<String> steps = new ArrayList<>();
    ImageInfo info = store.ensure(ImageRecipe.python(), (s, d, t) -> steps.add(s));
    assertThat(info)
        .isEqualTo(new ImageInfo("python", m.recipeHash(), List.of("python3"), 1234, m.builtAt()));
    assertThat(steps).isEmpty();
    assertThat(store.ensure("python", ProgressListener.NONE)).isEqualTo(info);
  }

  @Test
  void findListAndRootfsReadTheManifest() throws Exception {
    ImageManifest m = fabricate(ImageRecipe.python());
    fabricate(new ImageRecipe("aaa", "bookworm", List.of(), Map.of()));
    assertThat(store.find("python")).contains(m.info());
    assertThat(store.list()).extracting(ImageInfo::name).containsExactly("aaa", "python");
    assertThat(store.rootfs("python")).isEqualTo(dir.resolve("python").resolve(m.tree()));
  }

  @Test
  void halfBuiltAndUnreadableImagesAreInvisible() throws Exception {
    Files.createDirectories(dir.resolve("half").resolve(ImageStore.BUILD_PREFIX + "1234/etc"));
    Path broken = Files.createDirectories(dir.resolve("broken"));
    Files.writeString(broken.resolve(ImageStore.MANIFEST), "{not json");
    Files.createDirectories(dir.resolve(".locks"));
    assertThat(store.list()).isEmpty();
    assertThat(store.find("half")).isEmpty();
    assertThat(store.find("broken")).isEmpty();
    assertThatThrownBy(() -> store.rootfs("half")).isInstanceOf(NotFoundException.class);
  }

  @Test
  void manifestWhoseTreeIsGoneIsNotCurrent() throws Exception {
    ImageManifest m = fabricate(ImageRecipe.python());
    Files.delete(dir.resolve("python").resolve(m.tree()).resolve("etc"));
    Files.delete(dir.resolve("python").resolve(m.tree()));
    // would need a rebuild, which this store's mirror cannot do
    assertThatThrownBy(() -> store.ensure(ImageRecipe.python(), ProgressListener.NONE))
        .isInstanceOf(ForkyardException.class);
    assertThat(dir.resolve("python")).isDirectory();
    try (var s = Files.list(dir.resolve("python"))) {
      assertThat(s.map(p -> p.getFileName().toString()))
          .noneMatch(n -> n.startsWith(ImageStore.BUILD_PREFIX));
    }
  }

  @Test
  void pruneKeepsTreesInUseAndRemovesTheRest() throws Exception {
    ImageManifest m = fabricate(ImageRecipe.python());
    Path imageDir = dir.resolve("python");
    Path used = Files.createDirectories(imageDir.resolve("0123456789ab-1"));
    Path unused = Files.createDirectories(imageDir.resolve("ba9876543210-1"));
    store.treeInUse(tree -> tree.equals(used));

    store.pruneUnusedTrees();

    assertThat(imageDir.resolve(m.tree())).as("current tree").isDirectory();
    assertThat(used).as("tree a snapshot still restores on").isDirectory();
    assertThat(unused).doesNotExist();
  }

  @Test
  void pruneWithoutManifestKeepsEverything() throws Exception {
    Path tree = Files.createDirectories(dir.resolve("orphan").resolve("0123456789ab-1"));
    store.pruneUnusedTrees();
    assertThat(tree).isDirectory();
  }

  @Test
  void deleteRemovesImageAndRecipe() throws Exception {
    fabricate(ImageRecipe.python());
    store.delete("python");
    assertThat(store.find("python")).isEmpty();
    assertThat(dir.resolve("python")).doesNotExist();
    assertThatThrownBy(() -> store.delete("python"))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("python");
  }

  @Test
  void registeredRecipeIsRememberedAndListed() throws Exception {
    Path file = Files.writeString(dir.resolve("hello.txt"), "hi");
    ImageRecipe r =
        new ImageRecipe("tools", "bookworm", List.of("git"), Map.of("/opt/hello", file.toString()));
    store.register(r);
    assertThat(store.recipe("tools")).contains(r);
    assertThat(store.recipes()).extracting(ImageRecipe::name).containsExactly("python", "tools");
    assertThat(store.list()).isEmpty(); // registered, not built
  }

  @Test
  void pythonIsBuiltInAndCanBeOverridden() {
    assertThat(store.recipe("python")).contains(ImageRecipe.python());
    ImageRecipe more = new ImageRecipe("python", "bookworm", List.of("python3", "git"), Map.of());
    store.register(more);
    assertThat(store.recipe("python")).contains(more);
    assertThat(store.recipes()).containsExactly(more);
  }

  @Test
  void rejectsUnknownNames() {
    assertThatThrownBy(() -> store.ensure("nosuch", ProgressListener.NONE))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("forkyard image build nosuch");
    assertThatThrownBy(() -> store.rootfs("nosuch"))
        .isInstanceOf(NotFoundException.class)
        .hasMessageContaining("not built");
    assertThatThrownBy(() -> store.delete("nosuch")).isInstanceOf(NotFoundException.class);
    assertThat(store.find("nosuch")).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "..", "../etc", "a/b", "Upper", ".locks", "-x", "a b"})
  void rejectsBadNames(String name) {
    assertThatThrownBy(() -> store.find(name)).isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> store.rootfs(name)).isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> store.delete(name)).isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> store.ensure(name, ProgressListener.NONE))
        .isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> store.recipe(name)).isInstanceOf(InvalidRequestException.class);
  }

  @Test
  void secondWriterWaitsForTheLockHolder() throws Exception {
    List<String> steps = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.CompletableFuture<Void> registered;
    try (HostLock l = store.lock("python", ProgressListener.NONE)) {
      ImageStore other = ImageStore.create(dir, "file:/nonexistent-forkyard-mirror");
      registered =
          java.util.concurrent.CompletableFuture.runAsync(
              () -> {
                try (HostLock l2 = other.lock("python", (s, d, t) -> steps.add(s))) {
                  steps.add("got it");
                }
              });
      org.awaitility.Awaitility.await().until(() -> !steps.isEmpty());
      assertThat(steps).containsExactly("Waiting for another build of image python");
    }
    registered.get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(steps).endsWith("got it");
  }

  @Test
  void rejectsRelativeHostPathInRecipe() {
    ImageRecipe r = new ImageRecipe("t", "bookworm", List.of(), Map.of("/opt/x", "relative/x"));
    assertThatThrownBy(() -> store.register(r))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("absolute");
  }

  @Test
  void rejectsMirrorThatIsNotAUrl() {
    assertThatThrownBy(() -> ImageStore.create(dir, "deb.debian.org"))
        .isInstanceOf(InvalidRequestException.class);
  }
}
