package io.forkyard.api;

import java.time.Instant;

/** One entry of a sandbox directory listing. */
public record FileEntry(
    String name, String path, Type type, long sizeBytes, int mode, Instant modifiedAt) {
  public enum Type {
    FILE,
    DIRECTORY,
    SYMLINK,
    OTHER
  }
}
