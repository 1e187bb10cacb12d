package io.forkyard.core;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Append-only event log of the state directory, one JSON object per line, so an operator can see
 * afterwards what happened to a sandbox (created, forked, expired, reaped...).
 */
final class Journal {
  private static final Logger LOG = LoggerFactory.getLogger(Journal.class);
  private final Path file;

  Journal(Path file) {
    this.file = file;
  }

  synchronized void record(String event, Map<String, ?> fields) {
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("at", Instant.now().toString());
    line.put("event", event);
    line.put("pid", ProcessHandle.current().pid());
    line.putAll(fields);
    try {
      Files.writeString(
          file,
          Json.MAPPER
                  .writer()
                  .without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                  .writeValueAsString(line)
              + "\n",
          StandardCharsets.UTF_8,
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND,
          StandardOpenOption.WRITE);
    } catch (IOException e) {
      LOG.warn("cannot append to journal {}: {}", file, e.getMessage());
    }
    LOG.debug("{} {}", event, fields);
  }
}
