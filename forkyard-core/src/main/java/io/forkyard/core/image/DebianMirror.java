package io.forkyard.core.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The Debian mirror debootstrap downloads from: {@code $FORKYARD_DEBIAN_MIRROR}, else the host's
 * own apt source (so a host behind a local mirror or proxy builds images the same way it installs
 * packages), else {@link #DEFAULT}.
 */
final class DebianMirror {
  static final String DEFAULT = "http://deb.debian.org/debian";

  private DebianMirror() {}

  static String fromHost() {
    String env = System.getenv("FORKYARD_DEBIAN_MIRROR");
    if (env != null && !env.isBlank()) {
      return env.trim();
    }
    List<Path> candidates = new ArrayList<>();
    candidates.add(Path.of("/etc/apt/sources.list.d/debian.sources"));
    try (Stream<Path> s = Files.list(Path.of("/etc/apt/sources.list.d"))) {
      s.filter(p -> p.toString().endsWith(".sources")).sorted().forEach(candidates::add);
    } catch (IOException e) {
      // no sources.list.d: only sources.list remains
    }
    for (Path p : candidates) {
      Optional<String> m = read(p).flatMap(DebianMirror::fromDeb822);
      if (m.isPresent()) {
        return m.get();
      }
    }
    return read(Path.of("/etc/apt/sources.list"))
        .flatMap(DebianMirror::fromSourcesList)
        .orElse(DEFAULT);
  }

  private static Optional<String> read(Path p) {
    try {
      return Files.isRegularFile(p) ? Optional.of(Files.readString(p)) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** First enabled {@code deb} stanza with a main (non-security, non-updates) suite. */
  static Optional<String> fromDeb822(String content) {
    for (String stanza : content.split("\\n\\s*\\n")) {
      String types = "";
      String uris = "";
      String suites = "";
      boolean enabled = true;
      for (String line : stanza.split("\\n")) {
        if (line.startsWith("#") || !line.contains(":")) {
          continue;
        }
        String key = line.substring(0, line.indexOf(':')).trim().toLowerCase(Locale.ROOT);
        String value = line.substring(line.indexOf(':') + 1).trim();
        switch (key) {
          case "types" -> types = value;
          case "uris" -> uris = value;
          case "suites" -> suites = value;
          case "enabled" -> enabled = !value.equalsIgnoreCase("no");
          default -> {}
        }
      }
      if (!enabled || !List.of(types.split("\\s+")).contains("deb") || uris.isEmpty()) {
        continue;
      }
      boolean mainSuite = Stream.of(suites.split("\\s+")).anyMatch(DebianMirror::isMainSuite);
      String uri = uris.split("\\s+")[0];
      if (mainSuite && usable(uri)) {
        return Optional.of(uri);
      }
    }
    return Optional.empty();
  }

  /** First {@code deb URI suite ...} line with a main suite (one-line format). */
  static Optional<String> fromSourcesList(String content) {
    for (String raw : content.split("\\n")) {
      String line = raw.strip();
      if (!line.startsWith("deb ") && !line.startsWith("deb\t")) {
        continue;
      }
      String rest = line.substring(3).strip();
      if (rest.startsWith("[")) {
        int end = rest.indexOf(']');
        if (end < 0) {
          continue;
        }
        rest = rest.substring(end + 1).strip();
      }
      String[] f = rest.split("\\s+");
      if (f.length >= 2 && isMainSuite(f[1]) && usable(f[0])) {
        return Optional.of(f[0]);
      }
    }
    return Optional.empty();
  }

  private static boolean isMainSuite(String suite) {
    return !suite.isEmpty()
        && !suite.contains("/")
        && !suite.contains("-security")
        && !suite.contains("-updates")
        && !suite.contains("-backports");
  }

  private static boolean usable(String uri) {
    return (uri.startsWith("http://") || uri.startsWith("https://") || uri.startsWith("file:/"))
        && !uri.contains("security");
  }
}
