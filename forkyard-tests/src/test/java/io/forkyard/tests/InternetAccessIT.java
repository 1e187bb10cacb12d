package io.forkyard.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.forkyard.api.CheckpointOptions;
import io.forkyard.api.Command;
import io.forkyard.api.CommandResult;
import io.forkyard.api.ForkResult;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.NetworkPolicy;
import io.forkyard.api.Sandbox;
import io.forkyard.api.SandboxId;
import io.forkyard.api.SandboxSpec;
import io.forkyard.api.SnapshotInfo;
import io.forkyard.api.SnapshotType;
import io.forkyard.core.SandboxService;
import io.forkyard.testkit.RealService;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * allowInternetAccess on real gVisor. "The internet" is a network namespace of the test's own,
 * reached only through the host's routing, with two addresses serving HTTP: what a sandbox reaches
 * there it would reach on the real internet, without the test depending on this machine's uplink.
 */
@Tag("integration")
class InternetAccessIT {
  private static final int PORT = 8080;
  private static Outside outside;

  private RealService real;
  private SandboxService svc;

  @BeforeAll
  static void startOutside() throws Exception {
    outside = Outside.start();
  }

  @AfterAll
  static void stopOutside() {
    if (outside != null) {
      outside.close();
    }
  }

  @BeforeEach
  void open() throws Exception {
    real = RealService.start();
    svc = real.service;
  }

  @AfterEach
  void cleanUp() {
    if (real != null) {
      real.close();
    }
  }

  @Test
  void reachesTheOutsideButNotTheHostOrOtherSandboxes() throws Exception {
    Sandbox a = svc.create(SandboxSpec.builder().network(NetworkPolicy.INTERNET).build());
    Sandbox b = svc.create(SandboxSpec.builder().network(NetworkPolicy.INTERNET).build());
    assertThat(get(a, outside.first)).isEqualTo("ok " + outside.token);
    assertThat(get(b, outside.second)).isEqualTo("ok " + outside.token);

    // no IPv6 on the host end: link-local IPv6 would otherwise reach host services
    Path v6 = Path.of("/proc/sys/net/ipv6/conf/fyh" + a.id().value().substring(3), "disable_ipv6");
    if (Files.exists(Path.of("/proc/sys/net/ipv6"))) {
      assertThat(Files.readString(v6).strip()).isEqualTo("1");
    }

    // name servers: the host's, as far as a sandbox can reach them
    List<String> hostNs = nameservers(Files.readString(Path.of("/etc/resolv.conf")));
    if (!hostNs.isEmpty()) {
      assertThat(nameservers(sh(a, "cat /etc/resolv.conf"))).isEqualTo(hostNs);
    }

    // the host: its end of the sandbox's link, and its own address on the outside link
    AtomicInteger hostHits = new AtomicInteger();
    HttpServer host = HttpServer.create(new InetSocketAddress("0.0.0.0", 0), 0);
    host.createContext(
        "/",
        ex -> {
          hostHits.incrementAndGet();
          ex.sendResponseHeaders(200, -1);
          ex.close();
        });
    host.start();
    try {
      int port = host.getAddress().getPort();
      String gateway = sh(a, GATEWAY);
      assertThat(gateway).startsWith("10.200.");
      // dropped, not refused: the host does not even answer
      assertThat(connect(a, gateway, port)).isEqualTo("timeout");
      assertThat(connect(a, outside.hostSide, port)).isEqualTo("timeout");
      assertThat(hostHits).hasValue(0);
    } finally {
      host.stop(0);
    }

    // another sandbox, listening
    a.run(Command.shell("nohup python3 -m http.server 8000 >/dev/null 2>&1 &"));
    String aAddr = sh(a, ADDRESS);
    assertThat(sh(a, "sleep 1; " + curl("127.0.0.1:8000"))).startsWith("200");
    assertThat(connect(b, aAddr, 8000)).isEqualTo("timeout");
    // nor from outside, even with a route to it
    assertThat(outside.connect(aAddr, 8000)).isEqualTo("timeout");

    // everything the two held on the host goes with them
    a.terminate();
    b.terminate();
    for (SandboxId id : List.of(a.id(), b.id())) {
      assertNothingLeft(id);
    }
  }

  @Test
  void memoryForksGetTheirOwnAddressAndMayDropTheNetwork() {
    Sandbox base = svc.create(SandboxSpec.builder().network(NetworkPolicy.INTERNET).build());
    String baseAddr = sh(base, ADDRESS);
    SnapshotInfo snap = base.checkpoint(CheckpointOptions.MEMORY);
    // the base itself is back with a network of its own
    assertThat(get(base, outside.first)).isEqualTo("ok " + outside.token);

    List<ForkResult> forks = svc.fork(snap.id(), 2);
    List<String> addrs = new ArrayList<>(List.of(baseAddr));
    for (ForkResult f : forks) {
      Sandbox s = svc.sandbox(f.sandbox().orElseThrow().id());
      assertThat(get(s, outside.first)).isEqualTo("ok " + outside.token);
      addrs.add(sh(s, ADDRESS));
    }
    assertThat(addrs).doesNotHaveDuplicates().allMatch(a -> a.startsWith("10.200."));

    Sandbox offline =
        svc.create(SandboxSpec.builder().snapshot(snap.id()).network(NetworkPolicy.NONE).build());
    assertThat(sh(offline, IFACES)).isEqualTo("lo");
    assertThat(connect(offline, outside.first, PORT)).isEqualTo("unreachable");
    assertThat(svc.runtime().liveSandboxes()).contains(offline.id());
    assertNoNetwork(offline.id());
  }

  @Test
  void aMemorySnapshotWithoutNetworkCannotGainOneButAFilesystemSnapshotCan() {
    Sandbox base = svc.create(SandboxSpec.builder().build());
    SnapshotInfo mem = base.checkpoint(CheckpointOptions.MEMORY);
    assertThatThrownBy(
            () ->
                svc.fork(
                    SandboxSpec.builder()
                        .snapshot(mem.id())
                        .network(NetworkPolicy.INTERNET)
                        .build(),
                    1))
        .isInstanceOf(InvalidRequestException.class)
        .hasMessageContaining("FILESYSTEM");

    SnapshotInfo fs = base.checkpoint(SnapshotType.FILESYSTEM);
    Sandbox online =
        svc.create(SandboxSpec.builder().snapshot(fs.id()).network(NetworkPolicy.INTERNET).build());
    assertThat(get(online, outside.first)).isEqualTo("ok " + outside.token);
  }

  @Test
  void allowAndDenyListsAreEnforcedPerSandbox() {
    Sandbox allowFirst =
        svc.create(
            SandboxSpec.builder()
                .network(new NetworkPolicy(true, List.of(outside.first), List.of()))
                .build());
    Sandbox denyFirst =
        svc.create(
            SandboxSpec.builder()
                .network(new NetworkPolicy(true, List.of(), List.of(outside.first + "/32")))
                .build());
    assertThat(get(allowFirst, outside.first)).isEqualTo("ok " + outside.token);
    assertThat(connect(allowFirst, outside.second, PORT)).isEqualTo("refused");
    assertThat(connect(denyFirst, outside.first, PORT)).isEqualTo("refused");
    assertThat(get(denyFirst, outside.second)).isEqualTo("ok " + outside.token);

    assertThatThrownBy(
            () ->
                svc.create(
                    SandboxSpec.builder()
                        .network(new NetworkPolicy(true, List.of("*.example.com"), List.of()))
                        .build()))
        .hasMessageContaining("wildcard");
  }

  @Test
  void hostRulesComeBackFirstAfterAFirewallReload() {
    svc.create(SandboxSpec.builder().network(NetworkPolicy.INTERNET).build());
    // what a firewall reload does: our INPUT drop gone, someone's ACCEPT first
    run("iptables", "-w", "-D", "INPUT", "-i", "fyh+", "-j", "DROP");
    runOk("iptables", "-w", "-I", "INPUT", "1", "-i", "fyh+", "-j", "ACCEPT");
    try {
      Sandbox next = svc.create(SandboxSpec.builder().network(NetworkPolicy.INTERNET).build());
      String input = run("iptables", "-w", "-S", "INPUT").output;
      assertThat(input.lines().filter(l -> l.startsWith("-A INPUT")).findFirst())
          .contains("-A INPUT -i fyh+ -j DROP");
      assertThat(connect(next, sh(next, GATEWAY), 22)).isEqualTo("timeout");
    } finally {
      run("iptables", "-w", "-D", "INPUT", "-i", "fyh+", "-j", "ACCEPT");
    }
  }

  @Test
  void aNetworkWhoseStateDirectoryIsGoneIsTornDownByTheNextCreate() throws Exception {
    // what a deleted state directory leaves: a claim, a namespace and a veth pair
    String hex = String.format("%012x", ThreadLocalRandom.current().nextLong(1L << 47));
    String ghost = "sb-" + hex;
    Path claims = Path.of("/run/forkyard/net");
    Files.createDirectories(claims);
    Path claim = null;
    for (int slot = 16383; claim == null; slot--) {
      Path p = claims.resolve("slot-" + slot);
      if (!Files.exists(p)) {
        claim = p;
      }
    }
    runOk("ip", "netns", "add", "fy-" + ghost);
    try {
      runOk(
          "ip",
          "link",
          "add",
          "fyh" + hex,
          "type",
          "veth",
          "peer",
          "name",
          "eth0",
          "netns",
          "fy-" + ghost);
      Files.writeString(claim, ghost + "\n/tmp/fy-no-such-state-dir-" + hex + "\n");

      Sandbox sb = svc.create(SandboxSpec.builder().network(NetworkPolicy.INTERNET).build());
      assertThat(get(sb, outside.first)).isEqualTo("ok " + outside.token);
      assertThat(Path.of("/run/netns/fy-" + ghost)).doesNotExist();
      assertThat(Path.of("/sys/class/net/fyh" + hex)).doesNotExist();
      if (Files.exists(claim)) {
        assertThat(Files.readString(claim)).doesNotContain(ghost);
      }
    } finally {
      run("ip", "link", "del", "fyh" + hex);
      run("ip", "netns", "del", "fy-" + ghost);
      if (Files.exists(claim) && Files.readString(claim).contains(ghost)) {
        Files.delete(claim);
      }
    }
  }

  @Test
  void suspendAndResumeKeepInternetAccess() {
    Sandbox sb = svc.create(SandboxSpec.builder().network(NetworkPolicy.INTERNET).build());
    svc.suspend(sb.id());
    assertNoNetwork(sb.id());
    svc.resume(sb.id());
    assertThat(get(sb, outside.first)).isEqualTo("ok " + outside.token);
  }

  // ---- in-sandbox probes (python3 is in the test image) ----

  private static final String ADDRESS =
      "python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM);"
          + " s.connect((\"10.201.255.254\", 9)); print(s.getsockname()[0])'";

  private static final String GATEWAY =
      "python3 -c 'import socket,struct\n"
          + "for l in open(\"/proc/net/route\").readlines()[1:]:\n"
          + "  f=l.split()\n"
          + "  if f[1]==\"00000000\": print(socket.inet_ntoa(struct.pack(\"<L\", int(f[2], 16))))'";

  private static final String IFACES =
      "python3 -c 'import socket; print(\" \".join(n for _, n in socket.if_nameindex()))'";

  private static String curl(String hostPort) {
    return "python3 -c 'import urllib.request as u; r=u.urlopen(\"http://"
        + hostPort
        + "/\", timeout=10); print(r.status)'";
  }

  private static String get(Sandbox sb, String addr) {
    return sh(
        sb,
        "python3 -c 'import urllib.request as u;"
            + " print(u.urlopen(\"http://"
            + addr
            + ":"
            + PORT
            + "/token.txt\", timeout=10).read().decode().strip())'");
  }

  /** "connected", "refused", "unreachable" (no route), or "timeout" within 3 s. */
  private static String connect(Sandbox sb, String addr, int port) {
    return sh(
        sb,
        "python3 -c '\n"
            + "import socket\n"
            + "s=socket.socket(); s.settimeout(3)\n"
            + "try:\n"
            + "  s.connect((\""
            + addr
            + "\", "
            + port
            + ")); print(\"connected\")\n"
            + "except ConnectionRefusedError: print(\"refused\")\n"
            + "except TimeoutError: print(\"timeout\")\n"
            + "except OSError as e:\n"
            + "  import errno\n"
            + "  print(\"unreachable\" if e.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH) else e)'");
  }

  private static String sh(Sandbox sb, String script) {
    CommandResult r = sb.run(Command.shell(script).withTimeout(Duration.ofSeconds(60)));
    assertThat(r.exitCode()).as("exit of %s: %s", script, r.stderr()).isZero();
    return r.stdout().strip();
  }

  private static List<String> nameservers(String text) {
    return text.lines()
        .map(String::strip)
        .filter(l -> l.matches("nameserver\\s+\\d+\\.\\d+\\.\\d+\\.\\d+"))
        .map(l -> l.split("\\s+")[1])
        .filter(ns -> !ns.startsWith("127."))
        .toList();
  }

  // ---- host side ----

  private void assertNothingLeft(SandboxId id) {
    assertNoNetwork(id);
    assertThat(svc.runtime().liveSandboxes()).doesNotContain(id);
  }

  private static void assertNoNetwork(SandboxId id) {
    String hex = id.value().substring(3);
    assertThat(Path.of("/run/netns/fy-" + id.value())).doesNotExist();
    assertThat(Path.of("/sys/class/net/fyh" + hex)).doesNotExist();
    assertThat(run("iptables", "-w", "-S", "FY-" + hex).exit).isNotZero();
    try (var claims = Files.list(Path.of("/run/forkyard/net"))) {
      for (Path c : claims.filter(p -> p.getFileName().toString().startsWith("slot-")).toList()) {
        assertThat(Files.readString(c)).doesNotContain(id.value());
      }
    } catch (IOException e) {
      // no claims directory: nothing claimed
    }
  }

  private record Ran(int exit, String output) {}

  private static Ran run(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Ran(-1, out);
      }
      return new Ran(p.exitValue(), out);
    } catch (IOException e) {
      throw new AssertionError("cannot run " + String.join(" ", cmd), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private static void runOk(String... cmd) {
    Ran r = run(cmd);
    assertThat(r.exit).as("%s: %s", String.join(" ", cmd), r.output).isZero();
  }

  /**
   * A namespace on 10.201.N.0/24 with two addresses and a web server, linked to the host by a veth
   * pair: a stand-in for two hosts on the internet, reached through host routing.
   */
  private static final class Outside implements AutoCloseable {
    final String ns;
    final String hostIf;
    final String hostSide;
    final String first;
    final String second;
    final String token = UUID.randomUUID().toString();
    final Path docroot;
    Process server;

    private Outside(int n) throws IOException {
      ns = "fyt-out-" + n;
      hostIf = "fyto" + n;
      hostSide = "10.201." + n + ".1";
      first = "10.201." + n + ".2";
      second = "10.201." + n + ".3";
      docroot = Files.createTempDirectory("fyt-out-");
      Files.writeString(docroot.resolve("token.txt"), "ok " + token + "\n");
    }

    static Outside start() throws Exception {
      int n = ThreadLocalRandom.current().nextInt(1, 250);
      for (int tries = 0;
          Files.exists(Path.of("/run/netns/fyt-out-" + n))
              || Files.exists(Path.of("/sys/class/net/fyto" + n));
          tries++) {
        assertThat(tries).as("a free 10.201.N.0/24 for the outside namespace").isLessThan(250);
        n = n % 249 + 1;
      }
      Outside o = new Outside(n);
      try {
        runOk("ip", "netns", "add", o.ns);
        runOk("ip", "link", "add", o.hostIf, "type", "veth", "peer", "name", "eth0", "netns", o.ns);
        runOk("ip", "addr", "add", o.hostSide + "/24", "dev", o.hostIf);
        runOk("ip", "link", "set", o.hostIf, "up");
        runOk("ip", "-n", o.ns, "link", "set", "lo", "up");
        runOk("ip", "-n", o.ns, "addr", "add", o.first + "/24", "dev", "eth0");
        runOk("ip", "-n", o.ns, "addr", "add", o.second + "/24", "dev", "eth0");
        runOk("ip", "-n", o.ns, "link", "set", "eth0", "up");
        // a route back to the sandboxes, as a router upstream could have
        runOk("ip", "-n", o.ns, "route", "add", "10.200.0.0/16", "via", o.hostSide);
        o.server =
            new ProcessBuilder(
                    "ip",
                    "netns",
                    "exec",
                    o.ns,
                    "python3",
                    "-m",
                    "http.server",
                    String.valueOf(PORT),
                    "--bind",
                    "0.0.0.0",
                    "--directory",
                    o.docroot.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
        // ready when it answers from inside its namespace
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (run(
                    "ip",
                    "netns",
                    "exec",
                    o.ns,
                    "python3",
                    "-c",
                    "import urllib.request as u; u.urlopen('http://"
                        + o.first
                        + ":"
                        + PORT
                        + "/token.txt', timeout=2)")
                .exit
            != 0) {
          if (System.nanoTime() > deadline || !o.server.isAlive()) {
            throw new AssertionError("the outside web server did not come up");
          }
          Thread.sleep(200);
        }
        return o;
      } catch (Exception | AssertionError e) {
        o.close();
        throw e;
      }
    }

    /** A TCP connect from the outside: "connected", "refused" or "timeout" within 3 s. */
    String connect(String addr, int port) {
      return run(
              "ip",
              "netns",
              "exec",
              ns,
              "python3",
              "-c",
              "import socket\n"
                  + "s=socket.socket(); s.settimeout(3)\n"
                  + "try:\n"
                  + "  s.connect(('"
                  + addr
                  + "', "
                  + port
                  + ")); print('connected')\n"
                  + "except ConnectionRefusedError: print('refused')\n"
                  + "except TimeoutError: print('timeout')\n")
          .output
          .strip();
    }

    @Override
    public void close() {
      if (server != null) {
        server.destroyForcibly();
      }
      run("ip", "link", "del", hostIf);
      run("ip", "netns", "del", ns);
      RealService.deleteTree(docroot);
    }
  }
}
