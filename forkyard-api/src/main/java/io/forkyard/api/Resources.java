package io.forkyard.api;

/**
 * What a sandbox may use. Enforced by the runtime, not just recorded.
 *
 * @param cpus number of CPUs the sandbox may keep busy (1..64)
 * @param memoryMb memory limit in MiB (32..65536)
 * @param diskMb limit for the sandbox's own file changes in MiB (16..1048576)
 */
public record Resources(int cpus, int memoryMb, int diskMb) {
  public static final Resources DEFAULT = new Resources(1, 512, 1024);

  public Resources {
    if (cpus < 1 || cpus > 64) {
      throw new InvalidRequestException("cpus must be between 1 and 64, got " + cpus);
    }
    if (memoryMb < 32 || memoryMb > 65536) {
      throw new InvalidRequestException("memoryMb must be between 32 and 65536, got " + memoryMb);
    }
    if (diskMb < 16 || diskMb > 1048576) {
      throw new InvalidRequestException("diskMb must be between 16 and 1048576, got " + diskMb);
    }
  }
}
