package io.forkyard.runtime.gvisor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.SandboxId;
import io.forkyard.api.UnsupportedByRuntimeException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The parts of {@link Networks} and {@link Resolv} that need neither root nor a host network. */
class NetworksTest {
  private static final SandboxId ID = SandboxId.of("sb-0123456789ab");

  @Test
  void slotsMapToDisjointSlash30sInside10Dot200() {
    Networks.Lease first = new Networks.Lease(ID, 1);
    assertThat(first.hostAddr()).isEqualTo("10.200.0.5");
    assertThat(first.sandboxAddr()).isEqualTo("10.200.0.6");
    Networks.Lease crossing = new Networks.Lease(ID, 64);
    assertThat(crossing.hostAddr()).isEqualTo("10.200.1.1");
    Networks.Lease last = new Networks.Lease(ID, 16383);
    assertThat(last.hostAddr()).isEqualTo("10.200.255.253");
    assertThat(last.sandboxAddr()).isEqualTo("10.200.255.254");
  }

  @Test
  void namesFitTheKernelsLimits() {
    Networks.Lease l = new Networks.Lease(ID, 7);
    assertThat(l.hostIf()).isEqualTo("fyh0123456789ab").hasSizeLessThanOrEqualTo(15);
    assertThat(l.chain()).isEqualTo("FY-0123456789ab").hasSizeLessThanOrEqualTo(28);
    assertThat(l.nsPath().toString()).isEqualTo("/run/netns/fy-sb-0123456789ab");
  }

  @Test
  void listEntriesBecomeCidrs() {
    assertThat(Networks.resolveAll(List.of("1.2.3.4", "10.0.0.0/8", "1.2.3.4/32", "localhost")))
        .containsExactly("1.2.3.4/32", "10.0.0.0/8", "127.0.0.1/32");
  }

  @Test
  void addressesAreRebuiltFromTheirNumbers() {
    // iptables would read 010 as octal 8: hand it what Java validated
    assertThat(Networks.resolveAll(List.of("010.001.0.1", "192.168.001.0/24")))
        .containsExactly("10.1.0.1/32", "192.168.1.0/24");
  }

  private static String dump(List<String> input, List<String> forward) {
    StringBuilder sb = new StringBuilder();
    sb.append("*raw\n:PREROUTING ACCEPT [0:0]\n");
    Networks.RAW_RULES.forEach(r -> sb.append(r).append('\n'));
    sb.append("COMMIT\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n");
    sb.append(":FORKYARD - [0:0]\n:FORKYARD-LISTS - [0:0]\n");
    input.forEach(r -> sb.append(r).append('\n'));
    forward.forEach(r -> sb.append(r).append('\n'));
    Networks.CHAIN_RULES.forEach(r -> sb.append(r).append('\n'));
    sb.append("-A FORKYARD-LISTS -i fyh0123456789ab -j FY-0123456789ab\nCOMMIT\n");
    sb.append("*nat\n:POSTROUTING ACCEPT [0:0]\n").append(Networks.NAT_RULE).append("\nCOMMIT\n");
    return sb.toString();
  }

  @Test
  void hostRulesCountOnlyWhenFirstInTheirChains() {
    List<String> input = List.of("-A INPUT -i fyh+ -j DROP", "-A INPUT -p tcp -j ACCEPT");
    List<String> forward =
        List.of(
            "-A FORWARD -o fyh+ -j FORKYARD",
            "-A FORWARD -i fyh+ -j FORKYARD",
            "-A FORWARD -j ACCEPT");
    assertThat(Networks.rulesInPlace(dump(input, forward))).isTrue();
    // a firewall reload put its own ACCEPT in front
    assertThat(
            Networks.rulesInPlace(
                dump(List.of("-A INPUT -j ACCEPT", "-A INPUT -i fyh+ -j DROP"), forward)))
        .isFalse();
    assertThat(
            Networks.rulesInPlace(
                dump(input, List.of("-A FORWARD -j ACCEPT", "-A FORWARD -i fyh+ -j FORKYARD"))))
        .isFalse();
    // flushed: nothing left
    assertThat(Networks.rulesInPlace("*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n")).isFalse();
    // the chain changed
    assertThat(
            Networks.rulesInPlace(
                dump(input, forward).replace("-A FORKYARD -o fyh+ -j DROP\n", "")))
        .isFalse();
    assertThat(Networks.rulesInPlace(dump(input, forward).replace(Networks.NAT_RULE, "")))
        .isFalse();
  }

  @Test
  void entriesTheRuntimeCannotEnforceAreRefused() {
    assertThatThrownBy(() -> Networks.resolveAll(List.of("*.example.com")))
        .isInstanceOf(UnsupportedByRuntimeException.class)
        .hasMessageContaining("wildcard");
    assertThatThrownBy(() -> Networks.resolveAll(List.of("2001:db8::/32")))
        .isInstanceOf(UnsupportedByRuntimeException.class)
        .hasMessageContaining("IPv4");
    assertThatThrownBy(() -> Networks.resolveAll(List.of("300.1.1.1")))
        .isInstanceOf(InvalidRequestException.class);
    assertThatThrownBy(() -> Networks.resolveAll(List.of("10.0.0.0/33")))
        .isInstanceOf(InvalidRequestException.class);
  }

  @Test
  void sandboxNameServersSkipLoopbackAndIpv6() {
    String conf =
        """
        # generated
        nameserver 127.0.0.53
        nameserver 10.255.255.53
        nameserver fd00::1
        nameserver 10.255.255.53
        search example.com
        nameserver 192.0.2.53
        """;
    assertThat(Resolv.nameservers(conf)).containsExactly("10.255.255.53", "192.0.2.53");
    assertThat(Resolv.nameservers("nameserver 127.0.0.1\n")).isEmpty();
  }

  @Test
  void theWrapperHidesTheSysctlOnlyInsideTheSandboxNamespace() {
    List<String> w = Runsc.inNetns(java.nio.file.Path.of("/run/netns/fy-sb-0123456789ab"));
    assertThat(w.get(0)).endsWith("unshare");
    assertThat(w).contains("--mount", "private", "/run/netns/fy-sb-0123456789ab");
    assertThat(String.join(" ", w)).contains("nsenter --net=").contains("/proc/sys/net/core");
  }
}
