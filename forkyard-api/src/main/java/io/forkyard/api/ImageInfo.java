package io.forkyard.api;

import java.time.Instant;
import java.util.List;

/**
 * A built, read-only root filesystem.
 *
 * @param recipeHash hash of the recipe it was built from; a changed recipe means a rebuild
 * @param packages Debian packages installed on top of the base
 */
public record ImageInfo(
    String name, String recipeHash, List<String> packages, long sizeBytes, Instant builtAt) {
  public ImageInfo {
    packages = List.copyOf(packages == null ? List.of() : packages);
  }
}
