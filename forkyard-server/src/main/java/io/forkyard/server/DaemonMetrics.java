package io.forkyard.server;

import io.forkyard.api.CommandResult;
import io.forkyard.api.ErrorCode;
import io.forkyard.api.SandboxInfo;
import io.forkyard.api.SandboxState;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** The daemon's Prometheus metrics. Sandbox counts by state are refreshed on every scrape. */
final class DaemonMetrics {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<SandboxState, AtomicLong> byState = new EnumMap<>(SandboxState.class);
  private final Counter forks;
  private final Counter forkFailures;
  private final Timer checkpoint;
  private final Timer fork;
  private final Timer forkBatch;

  DaemonMetrics() {
    for (SandboxState s : SandboxState.values()) {
      AtomicLong value = new AtomicLong();
      byState.put(s, value);
      Gauge.builder("forkyard.sandboxes", value, AtomicLong::get)
          .description("Sandboxes known to the service, by state")
          .tag("state", s.name())
          .register(registry);
    }
    forks =
        Counter.builder("forkyard.forks")
            .description("Sandboxes forked from snapshots")
            .register(registry);
    forkFailures =
        Counter.builder("forkyard.fork.failures")
            .description("Fork copies that failed")
            .register(registry);
    checkpoint =
        Timer.builder("forkyard.checkpoint")
            .description("Checkpoint latency, request to COMPLETED snapshot")
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(5))
            .maximumExpectedValue(Duration.ofMinutes(2))
            .register(registry);
    fork =
        Timer.builder("forkyard.fork")
            .description("Latency of one fork copy, snapshot to RUNNING sandbox")
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(5))
            .maximumExpectedValue(Duration.ofMinutes(2))
            .register(registry);
    forkBatch =
        Timer.builder("forkyard.fork.batch")
            .description("Wall time of a batch fork request")
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(5))
            .maximumExpectedValue(Duration.ofMinutes(5))
            .register(registry);
  }

  void forked(Duration copy) {
    forks.increment();
    fork.record(copy);
  }

  void forkFailed() {
    forkFailures.increment();
  }

  void forkBatch(long startNanos) {
    forkBatch.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }

  void checkpointed(long startNanos) {
    checkpoint.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }

  void command(CommandResult r) {
    String outcome = r.timedOut() ? "timeout" : r.exitCode() == 0 ? "ok" : "nonzero";
    registry.counter("forkyard.commands", "outcome", outcome).increment();
  }

  void commandFailed() {
    registry.counter("forkyard.commands", "outcome", "error").increment();
  }

  void error(ErrorCode code) {
    registry.counter("forkyard.errors", "code", code.name()).increment();
  }

  void request(String method, String route, int status, long nanos) {
    Timer.builder("forkyard.http.requests")
        .tag("method", method)
        .tag("route", route)
        .tag("status", Integer.toString(status))
        .register(registry)
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  String scrape(List<SandboxInfo> sandboxes) {
    Map<SandboxState, Long> counts = new EnumMap<>(SandboxState.class);
    for (SandboxInfo s : sandboxes) {
      counts.merge(s.state(), 1L, Long::sum);
    }
    byState.forEach((state, value) -> value.set(counts.getOrDefault(state, 0L)));
    return registry.scrape();
  }

  PrometheusMeterRegistry registry() {
    return registry;
  }
}
