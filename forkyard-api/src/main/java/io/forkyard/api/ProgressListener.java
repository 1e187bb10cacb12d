package io.forkyard.api;

/** Told about slow steps (image builds) so a user sees something move. */
public interface ProgressListener {
  ProgressListener NONE = (step, done, total) -> {};

  /**
   * @param step what is happening, human readable
   * @param done units done so far
   * @param total units in all; -1 when unknown
   */
  void progress(String step, long done, long total);
}
