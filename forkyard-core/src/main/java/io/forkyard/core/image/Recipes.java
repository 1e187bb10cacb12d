package io.forkyard.core.image;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.forkyard.api.ImageRecipe;
import io.forkyard.api.InvalidRequestException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/** Recipe identity (the hash that decides rebuilds) and the JSON form of recipes and manifests. */
final class Recipes {
  /**
   * Bumped whenever the way an image is built from a recipe changes (debootstrap flags, the sandbox
   * fixes), so every cached image is rebuilt once with the new procedure.
   */
  static final int BUILD_FORMAT = 2;

  static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(new JavaTimeModule())
          .registerModule(new Jdk8Module())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .enable(SerializationFeature.INDENT_OUTPUT);

  private Recipes() {}

  /**
   * SHA-256 over what determines the image's content: build format, suite, the package set (order
   * and duplicates do not matter) and each copied file's target, mode and bytes. The name and the
   * mirror are not part of it: the same recipe under two names, or fetched from another mirror, is
   * the same image.
   */
  static String hash(ImageRecipe recipe) {
    MessageDigest md = sha256();
    StringBuilder sb = new StringBuilder();
    sb.append("forkyard-image-format ").append(BUILD_FORMAT).append('\n');
    sb.append("suite ").append(recipe.suite()).append('\n');
    sb.append("packages ").append(String.join(",", new TreeSet<>(recipe.packages()))).append('\n');
    for (Map.Entry<String, String> f : new TreeMap<>(recipe.files()).entrySet()) {
      sb.append("file ")
          .append(f.getKey())
          .append(' ')
          .append(contentDigest(Path.of(f.getValue())));
      sb.append('\n');
    }
    md.update(sb.toString().getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(md.digest());
  }

  /**
   * Digest of a host file or directory tree (names, executable bits, bytes; symlinks by target).
   */
  static String contentDigest(Path host) {
    if (!host.isAbsolute()) {
      throw new InvalidRequestException(
          "image recipe file must be an absolute host path (the recipe is kept and rebuilt"
              + " later, from any working directory): "
              + host);
    }
    if (!Files.exists(host, LinkOption.NOFOLLOW_LINKS)) {
      throw new InvalidRequestException("image recipe file does not exist on this host: " + host);
    }
    MessageDigest md = sha256();
    try {
      if (Files.isDirectory(host, LinkOption.NOFOLLOW_LINKS)) {
        List<Path> entries;
        try (Stream<Path> s = Files.walk(host)) {
          entries = s.sorted().toList();
        }
        for (Path p : entries) {
          md.update((host.relativize(p) + "\0").getBytes(StandardCharsets.UTF_8));
          digestEntry(md, p);
        }
      } else {
        digestEntry(md, host);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read image recipe file " + host, e);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static void digestEntry(MessageDigest md, Path p) throws IOException {
    if (Files.isSymbolicLink(p)) {
      md.update(("l" + Files.readSymbolicLink(p) + "\0").getBytes(StandardCharsets.UTF_8));
    } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
      md.update((byte) 'd');
    } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
      md.update((byte) (Files.isExecutable(p) ? 'x' : 'f'));
      try (InputStream in = Files.newInputStream(p)) {
        byte[] buf = new byte[64 * 1024];
        int n;
        while ((n = in.read(buf)) > 0) {
          md.update(buf, 0, n);
        }
      }
    } else {
      throw new InvalidRequestException(
          "image recipe file is not a regular file or directory: " + p);
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static <T> T read(Path file, Class<T> type) throws IOException {
    return JSON.readValue(file.toFile(), type);
  }

  /** Writes JSON next to its target and renames it into place, so readers see old or new. */
  static void writeAtomically(Path file, Object value) throws IOException {
    Path tmp =
        file.resolveSibling("." + file.getFileName() + ".tmp-" + ProcessHandle.current().pid());
    JSON.writeValue(tmp.toFile(), value);
    Files.move(
        tmp,
        file,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }
}
