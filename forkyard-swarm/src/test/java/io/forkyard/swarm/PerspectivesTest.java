package io.forkyard.swarm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.Sandboxes;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PerspectivesTest {
  @TempDir Path tmp;

  @Test
  void repeatsRoundRobinPastTheirCount() {
    assertThat(Perspectives.assign(Perspectives.BUILTIN, 7))
        .containsExactly(
            "security", "complexity", "docstrings", "tests", "structure", "security", "complexity");
    assertThat(Perspectives.assign(List.of("Security"), 2)).containsExactly("security", "security");
  }

  @Test
  void rejectsUnknownName() {
    assertThatThrownBy(() -> Perspectives.validate(List.of("security", "vibes"), List.of()))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("unknown perspective 'vibes'");
  }

  @Test
  void acceptsScriptByFileName() throws Exception {
    Path script = Files.writeString(tmp.resolve("licenses.py"), "def analyze(t): return {}");
    assertThat(Perspectives.validate(List.of("licenses", "security"), List.of(script)))
        .containsKey("licenses");
  }

  @Test
  void rejectsScriptShadowingABuiltInOrMissing() throws Exception {
    Path script = Files.writeString(tmp.resolve("security.py"), "");
    assertThatThrownBy(() -> Perspectives.validate(List.of("security"), List.of(script)))
        .hasMessageContaining("built-in");
    assertThatThrownBy(() -> Perspectives.validate(List.of("x"), List.of(tmp.resolve("x.py"))))
        .hasMessageContaining("not found");
    assertThatThrownBy(() -> Perspectives.validate(List.of("x"), List.of(tmp.resolve("x.sh"))))
        .hasMessageContaining("Python file");
  }

  /** Unknown names are refused before the swarm touches the SDK at all. */
  @Test
  void rejectsUnknownPerspectiveBeforeAnySandbox() {
    Sandboxes untouchable =
        (Sandboxes)
            Proxy.newProxyInstance(
                getClass().getClassLoader(),
                new Class<?>[] {Sandboxes.class},
                (p, m, a) -> {
                  throw new AssertionError("SDK called: " + m.getName());
                });
    Swarm swarm =
        Swarm.create(
            untouchable,
            SwarmOptions.builder()
                .perspectives(List.of("security", "astrology"))
                .offlineLead(true)
                .build());
    assertThatThrownBy(() -> swarm.run(SwarmListener.NONE))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("astrology");
  }

  @Test
  void optionsHaveTheDocumentedDefaults() {
    SwarmOptions o = SwarmOptions.defaults();
    assertThat(o.agents()).isEqualTo(5);
    assertThat(o.perspectives()).isEqualTo(Perspectives.BUILTIN);
    assertThat(o.resultsPath()).isEqualTo(Path.of("benchmark_results.json"));
    assertThat(o.target()).isEmpty();
    assertThat(o.snapshot()).isEmpty();
    assertThatThrownBy(() -> SwarmOptions.builder().agents(0).build())
        .isInstanceOf(InvalidRequestException.class);
  }

  @Test
  void sampleSkipsTheReadme() {
    TargetFiles sample = TargetFiles.sample();
    assertThat(sample.skipped()).isEqualTo(1);
    assertThat(sample.files())
        .extracting(TargetFiles.TargetFile::path)
        .contains("shop/backup.py", "tests/test_utils.py");
  }

  @Test
  void targetDirectorySkipsWhatIsNotPython() throws Exception {
    Files.createDirectories(tmp.resolve("pkg/.git"));
    Files.writeString(tmp.resolve("pkg/a.py"), "x = 1\n");
    Files.writeString(tmp.resolve("pkg/data.csv"), "1,2\n");
    Files.writeString(tmp.resolve("pkg/.git/config"), "");
    TargetFiles t = TargetFiles.load(tmp);
    assertThat(t.files()).extracting(TargetFiles.TargetFile::path).containsExactly("pkg/a.py");
    assertThat(t.skipped()).isEqualTo(1);
  }
}
