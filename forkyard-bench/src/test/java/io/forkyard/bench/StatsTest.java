package io.forkyard.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StatsTest {
  @Test
  void nearestRankPercentiles() {
    Stats s = new Stats();
    for (int i = 1; i <= 20; i++) {
      s.add(i);
    }
    assertThat(s.percentile(50)).isEqualTo(10.0);
    assertThat(s.percentile(95)).isEqualTo(19.0);
    assertThat(s.min()).isEqualTo(1.0);
    assertThat(s.max()).isEqualTo(20.0);
    assertThat(s.n()).isEqualTo(20);
  }

  @Test
  void oneSampleIsEveryPercentile() {
    Stats s = new Stats();
    s.add(42.0);
    assertThat(s.percentile(50)).isEqualTo(42.0);
    assertThat(s.percentile(95)).isEqualTo(42.0);
  }

  @Test
  void noSamplesGiveNullsInJson() {
    Stats s = new Stats();
    assertThat(s.toJson()).containsEntry("n", 0).containsEntry("p50", null);
  }

  @Test
  void parsesMeminfoLines() {
    assertThat(HostMemory.kib("MemAvailable:   23456789 kB")).isEqualTo(23456789L);
    assertThat(HostMemory.kib("Pss:                1234 kB")).isEqualTo(1234L);
  }
}
