package io.forkyard.api;

import java.util.List;

/**
 * Outbound network access of a sandbox. The default is no network at all. Allow and deny lists hold
 * host names, IP addresses or CIDR ranges; they only matter when internet access is on.
 */
public record NetworkPolicy(
    boolean allowInternetAccess, List<String> allowList, List<String> denyList) {
  public static final NetworkPolicy NONE = new NetworkPolicy(false, List.of(), List.of());
  public static final NetworkPolicy INTERNET = new NetworkPolicy(true, List.of(), List.of());

  public NetworkPolicy {
    allowList = List.copyOf(allowList == null ? List.of() : allowList);
    denyList = List.copyOf(denyList == null ? List.of() : denyList);
    for (String entry : allowList) {
      requireEntry(entry);
    }
    for (String entry : denyList) {
      requireEntry(entry);
    }
  }

  private static void requireEntry(String entry) {
    if (entry == null || entry.isBlank() || !entry.matches("[A-Za-z0-9.:/*-]+")) {
      throw new InvalidRequestException("not a host, address or CIDR range: '" + entry + "'");
    }
  }
}
