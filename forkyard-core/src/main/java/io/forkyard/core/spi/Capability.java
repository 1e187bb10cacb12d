package io.forkyard.core.spi;

/** What a runtime can do. The service refuses, with a clear error, what a runtime cannot. */
public enum Capability {
  /** Checkpoint running processes and memory; restore them in forks. */
  MEMORY_CHECKPOINT,
  /** Export the files a sandbox changed, so forks can cold-boot from them. */
  FILESYSTEM_CHECKPOINT,
  /** Suspend to disk and resume under the same id (built on memory checkpoint + restore). */
  SUSPEND,
  /** Outbound internet access when a sandbox asks for it. */
  INTERNET_ACCESS,
  /** Enforce allow/deny lists on outbound traffic. */
  NETWORK_FILTER
}
