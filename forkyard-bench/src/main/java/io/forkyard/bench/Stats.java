package io.forkyard.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Samples of one scenario and their nearest-rank percentiles. */
final class Stats {
  private final List<Double> samples = new ArrayList<>();

  synchronized void add(double value) {
    samples.add(value);
  }

  synchronized int n() {
    return samples.size();
  }

  /** Nearest-rank percentile: the smallest sample with at least p% of samples at or below it. */
  synchronized double percentile(double p) {
    if (samples.isEmpty()) {
      return Double.NaN;
    }
    List<Double> sorted = new ArrayList<>(samples);
    Collections.sort(sorted);
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }

  synchronized double min() {
    return samples.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
  }

  synchronized double max() {
    return samples.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
  }

  synchronized double mean() {
    return samples.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }

  synchronized Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("p50", round(percentile(50)));
    m.put("p95", round(percentile(95)));
    m.put("n", samples.size());
    m.put("min", round(min()));
    m.put("max", round(max()));
    m.put("mean", round(mean()));
    m.put("samples", samples.stream().map(Stats::round).toList());
    return m;
  }

  static Double round(double v) {
    return Double.isNaN(v) ? null : Math.round(v * 10.0) / 10.0;
  }
}
