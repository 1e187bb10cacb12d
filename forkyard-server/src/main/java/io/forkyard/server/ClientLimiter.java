package io.forkyard.server;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Caps operations in flight, per client and in all. A client is its address plus the optional
 * {@code X-Forkyard-Client} header, so many SDK instances on one host each get their own share.
 * Over the cap the request is refused at once (429), never queued.
 */
final class ClientLimiter {
  private final int perClient;
  private final int total;
  private final ConcurrentHashMap<String, Integer> inFlight = new ConcurrentHashMap<>();
  private final AtomicInteger all = new AtomicInteger();

  ClientLimiter(int perClient, int total) {
    this.perClient = perClient;
    this.total = total;
  }

  int perClient() {
    return perClient;
  }

  int total() {
    return total;
  }

  int inFlight() {
    return all.get();
  }

  boolean tryAcquire(String client) {
    if (all.incrementAndGet() > total) {
      all.decrementAndGet();
      return false;
    }
    boolean[] ok = {false};
    inFlight.compute(
        client,
        (k, n) -> {
          int current = n == null ? 0 : n;
          if (current >= perClient) {
            return n;
          }
          ok[0] = true;
          return current + 1;
        });
    if (!ok[0]) {
      all.decrementAndGet();
    }
    return ok[0];
  }

  void release(String client) {
    inFlight.computeIfPresent(client, (k, n) -> n <= 1 ? null : n - 1);
    all.decrementAndGet();
  }
}
