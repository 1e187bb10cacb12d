package io.forkyard.api;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * How to build an image: a Debian suite's minimal base plus packages plus files. The image is
 * rebuilt only when this recipe (or a copied file's content) changes.
 *
 * @param suite Debian suite, e.g. {@code bookworm}
 * @param packages Debian packages to add
 * @param files sandbox path → path of a file on the host running the service, copied in
 */
public record ImageRecipe(
    String name, String suite, List<String> packages, Map<String, String> files) {
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,62}");
  private static final Pattern PACKAGE = Pattern.compile("[a-z0-9][a-z0-9+.-]+");

  public ImageRecipe {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new InvalidRequestException(
          "image name must be 1-63 of [a-z0-9_.-], got '" + name + "'");
    }
    suite = suite == null || suite.isBlank() ? "bookworm" : suite;
    if (!PACKAGE.matcher(suite).matches()) {
      throw new InvalidRequestException("not a Debian suite: '" + suite + "'");
    }
    packages = List.copyOf(packages == null ? List.of() : packages);
    for (String p : packages) {
      if (!PACKAGE.matcher(p).matches()) {
        throw new InvalidRequestException("not a Debian package name: '" + p + "'");
      }
    }
    files = Map.copyOf(files == null ? Map.of() : files);
    for (String target : files.keySet()) {
      if (!target.startsWith("/") || target.contains("/../") || target.endsWith("/..")) {
        throw new InvalidRequestException("image file target must be an absolute path: " + target);
      }
    }
  }

  /** The default image: Debian bookworm minbase with python3. */
  public static ImageRecipe python() {
    return new ImageRecipe("python", "bookworm", List.of("python3"), Map.of());
  }
}
