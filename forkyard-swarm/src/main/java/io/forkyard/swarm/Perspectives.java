package io.forkyard.swarm;

import io.forkyard.api.InvalidRequestException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Perspective names: the built-ins and user scripts (a script's perspective name is its file name
 * without {@code .py}). Validation happens before any sandbox is made.
 */
public final class Perspectives {
  public static final List<String> BUILTIN =
      List.of("security", "complexity", "docstrings", "tests", "structure");
  private static final Pattern SCRIPT_NAME = Pattern.compile("[a-z][a-z0-9_]{0,40}");

  private Perspectives() {}

  /**
   * The perspective of every agent, in agent order: {@code names} repeated round-robin until {@code
   * agents} entries. Names are lower-cased.
   */
  public static List<String> assign(List<String> names, int agents) {
    if (names.isEmpty()) {
      throw new InvalidRequestException("at least one perspective is needed");
    }
    List<String> out = new ArrayList<>(agents);
    for (int i = 0; i < agents; i++) {
      out.add(names.get(i % names.size()).toLowerCase(Locale.ROOT));
    }
    return out;
  }

  /**
   * Checks user scripts and requested names. Returns script name to path for the scripts.
   *
   * @throws InvalidRequestException for an unknown name, a missing or badly named script, or a
   *     script shadowing a built-in
   */
  public static Map<String, Path> validate(List<String> requested, List<Path> scripts) {
    Map<String, Path> user = new LinkedHashMap<>();
    for (Path script : scripts) {
      String file = script.getFileName() == null ? "" : script.getFileName().toString();
      if (!file.endsWith(".py")) {
        throw new InvalidRequestException(
            "a perspective script must be a Python file named <perspective>.py, got " + script);
      }
      String name = file.substring(0, file.length() - 3).toLowerCase(Locale.ROOT);
      if (!SCRIPT_NAME.matcher(name).matches()) {
        throw new InvalidRequestException(
            "perspective script name '"
                + name
                + "' must be lower-case letters, digits and '_', starting with a letter");
      }
      if (BUILTIN.contains(name)) {
        throw new InvalidRequestException(
            "perspective script "
                + script
                + " would replace the built-in '"
                + name
                + "'; rename it");
      }
      if (!Files.isRegularFile(script)) {
        throw new InvalidRequestException("perspective script not found: " + script);
      }
      user.put(name, script);
    }
    List<String> known = new ArrayList<>(BUILTIN);
    known.addAll(user.keySet());
    if (requested.isEmpty()) {
      throw new InvalidRequestException("at least one perspective is needed");
    }
    for (String name : requested) {
      if (!known.contains(name.toLowerCase(Locale.ROOT))) {
        throw new InvalidRequestException(
            "unknown perspective '"
                + name
                + "'; known: "
                + String.join(", ", known)
                + " (add your own with a perspective script, see docs/swarm.md)");
      }
    }
    return user;
  }
}
