package io.forkyard.api;

/** Receives a command's output as it is produced. Called from one thread per stream. */
public interface OutputSink {
  OutputSink DISCARD = new OutputSink() {};

  default void stdout(byte[] chunk, int offset, int length) {}

  default void stderr(byte[] chunk, int offset, int length) {}
}
