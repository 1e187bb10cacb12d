package io.forkyard.core.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.forkyard.api.ImageRecipe;
import io.forkyard.api.InvalidRequestException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecipesTest {
  @TempDir Path tmp;

  @Test
  void hashIgnoresPackageOrderDuplicatesAndName() {
    String a = Recipes.hash(new ImageRecipe("a", "bookworm", List.of("python3", "git"), Map.of()));
    String b =
        Recipes.hash(new ImageRecipe("b", "bookworm", List.of("git", "python3", "git"), Map.of()));
    assertThat(a).isEqualTo(b).hasSize(64);
  }

  @Test
  void hashChangesWithSuiteAndPackages() {
    String base = Recipes.hash(ImageRecipe.python());
    assertThat(Recipes.hash(new ImageRecipe("python", "trixie", List.of("python3"), Map.of())))
        .isNotEqualTo(base);
    assertThat(
            Recipes.hash(
                new ImageRecipe("python", "bookworm", List.of("python3", "git"), Map.of())))
        .isNotEqualTo(base);
    assertThat(Recipes.hash(ImageRecipe.python())).isEqualTo(base);
  }

  @Test
  void hashCoversCopiedFileContentAndTarget() throws Exception {
    Path f = Files.writeString(tmp.resolve("tool.py"), "print(1)\n");
    ImageRecipe r =
        new ImageRecipe("t", "bookworm", List.of(), Map.of("/opt/tool.py", f.toString()));
    String first = Recipes.hash(r);
    assertThat(Recipes.hash(r)).isEqualTo(first);

    Files.writeString(f, "print(2)\n");
    String changed = Recipes.hash(r);
    assertThat(changed).isNotEqualTo(first);

    ImageRecipe moved =
        new ImageRecipe("t", "bookworm", List.of(), Map.of("/opt/other.py", f.toString()));
    assertThat(Recipes.hash(moved)).isNotEqualTo(changed);
  }

  @Test
  void hashCoversFilesInsideACopiedDirectory() throws Exception {
    Path d = Files.createDirectories(tmp.resolve("pkg"));
    Files.writeString(d.resolve("a.txt"), "a");
    ImageRecipe r = new ImageRecipe("t", "bookworm", List.of(), Map.of("/opt/pkg", d.toString()));
    String first = Recipes.hash(r);
    Files.writeString(d.resolve("b.txt"), "b");
    assertThat(Recipes.hash(r)).isNotEqualTo(first);
  }

  @Test
  void rejectsMissingRecipeFile() {
    ImageRecipe r =
        new ImageRecipe(
            "t", "bookworm", List.of(), Map.of("/opt/x", tmp.resolve("missing").toString()));
    assertThatThrownBy(() -> Recipes.hash(r))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("does not exist");
  }

  @Test
  void recipeSurvivesJsonRoundTrip() throws Exception {
    ImageRecipe r =
        new ImageRecipe("t", "bookworm", List.of("git"), Map.of("/opt/x", "/host/path/x"));
    Path file = tmp.resolve("r.json");
    Recipes.writeAtomically(file, r);
    assertThat(Recipes.read(file, ImageRecipe.class)).isEqualTo(r);
  }
}
