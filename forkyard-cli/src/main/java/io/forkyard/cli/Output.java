package io.forkyard.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.forkyard.api.FileEntry;
import io.forkyard.api.ImageInfo;
import io.forkyard.api.Resources;
import io.forkyard.api.SandboxInfo;
import io.forkyard.api.SnapshotId;
import io.forkyard.api.SnapshotInfo;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How the CLI prints things: tables for people, JSON (field names as in the SDK's records, ids and
 * times as strings) for scripts.
 */
final class Output {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final DateTimeFormatter LOCAL =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault());

  private Output() {}

  static void json(PrintStream out, Object value) {
    try {
      out.println(JSON.writeValueAsString(value));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON", e);
    }
  }

  static void keyValues(PrintStream out, Map<String, Object> values) {
    int width = values.keySet().stream().mapToInt(String::length).max().orElse(0);
    for (var e : values.entrySet()) {
      out.printf("%-" + width + "s  %s%n", e.getKey(), e.getValue() == null ? "" : e.getValue());
    }
  }

  static String time(Instant t) {
    return t == null ? "" : LOCAL.format(t);
  }

  static String size(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    double v = bytes;
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    int i = -1;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return String.format("%.1f %s", v, units[i]);
  }

  static Map<String, Object> sandbox(SandboxInfo s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", s.id().value());
    m.put("name", s.name());
    m.put("state", s.state().name());
    m.put("runtime", s.runtime());
    m.put("image", s.image());
    m.put("sourceSnapshot", s.sourceSnapshot().map(SnapshotId::value).orElse(null));
    m.put("resources", resources(s.resources()));
    m.put("allowInternetAccess", s.network() != null && s.network().allowInternetAccess());
    if (s.network() != null && !s.network().allowList().isEmpty()) {
      m.put("allowHosts", s.network().allowList());
    }
    if (s.network() != null && !s.network().denyList().isEmpty()) {
      m.put("denyHosts", s.network().denyList());
    }
    m.put("labels", s.labels());
    m.put("hostname", s.hostname());
    m.put("createdAt", string(s.createdAt()));
    m.put("expiresAt", string(s.expiresAt()));
    m.put("message", s.message());
    return m;
  }

  static Map<String, Object> snapshot(SnapshotInfo s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", s.id().value());
    m.put("type", s.type().name());
    m.put("status", s.status().name());
    m.put("runtime", s.runtime());
    m.put("sourceSandbox", s.sourceSandbox() == null ? null : s.sourceSandbox().value());
    m.put("parent", s.parent().map(SnapshotId::value).orElse(null));
    m.put("image", s.image());
    m.put("resources", resources(s.resources()));
    m.put("sizeBytes", s.sizeBytes());
    m.put("createdAt", string(s.createdAt()));
    m.put("checksum", s.checksum());
    m.put("labels", s.labels());
    m.put("message", s.message());
    return m;
  }

  static Map<String, Object> image(ImageInfo i) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", i.name());
    m.put("recipeHash", i.recipeHash());
    m.put("packages", i.packages());
    m.put("sizeBytes", i.sizeBytes());
    m.put("builtAt", string(i.builtAt()));
    return m;
  }

  static Map<String, Object> file(FileEntry e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", e.name());
    m.put("path", e.path());
    m.put("type", e.type().name());
    m.put("sizeBytes", e.sizeBytes());
    m.put("mode", e.mode());
    m.put("modifiedAt", string(e.modifiedAt()));
    return m;
  }

  private static Map<String, Object> resources(Resources r) {
    if (r == null) {
      return null;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cpus", r.cpus());
    m.put("memoryMb", r.memoryMb());
    m.put("diskMb", r.diskMb());
    return m;
  }

  private static String string(Object o) {
    return o == null ? null : o.toString();
  }

  /** Left-aligned columns separated by two spaces; a header row first. */
  static final class Table {
    private final List<String[]> rows = new ArrayList<>();

    Table(String... header) {
      rows.add(header);
    }

    void row(Object... cells) {
      String[] r = new String[cells.length];
      for (int i = 0; i < cells.length; i++) {
        r[i] = cells[i] == null ? "" : cells[i].toString();
      }
      rows.add(r);
    }

    void print(PrintStream out) {
      int cols = rows.get(0).length;
      int[] width = new int[cols];
      for (String[] r : rows) {
        for (int i = 0; i < cols; i++) {
          width[i] = Math.max(width[i], r[i].length());
        }
      }
      for (String[] r : rows) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < cols; i++) {
          line.append(r[i]);
          if (i < cols - 1) {
            line.append(" ".repeat(width[i] - r[i].length() + 2));
          }
        }
        out.println(line.toString().stripTrailing());
      }
    }
  }
}
