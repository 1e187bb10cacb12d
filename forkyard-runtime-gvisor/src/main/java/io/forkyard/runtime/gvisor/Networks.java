package io.forkyard.runtime.gvisor;

import io.forkyard.api.NetworkPolicy;
import io.forkyard.api.SandboxId;
import io.forkyard.api.UnsupportedByRuntimeException;
import java.util.Set;

/** Per-sandbox network namespaces for sandboxes with internet access. */
final class Networks {
  String create(SandboxId id, NetworkPolicy policy) {
    throw new UnsupportedByRuntimeException("internet access is not implemented yet");
  }

  void remove(SandboxId id) {}

  Set<SandboxId> orphans() {
    return Set.of();
  }
}
