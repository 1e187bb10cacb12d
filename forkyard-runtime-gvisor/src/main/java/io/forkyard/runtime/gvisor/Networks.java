package io.forkyard.runtime.gvisor;

import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.NetworkPolicy;
import io.forkyard.api.SandboxId;
import io.forkyard.api.UnsupportedByRuntimeException;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Outbound network for the sandboxes that ask for it.
 *
 * <p>Each such sandbox gets its own network namespace {@code fy-<sandbox id>} holding one end of a
 * veth pair, named {@code eth0}, with {@code 10.200.x.y+2/30}; the host end {@code fyh<hex>} has
 * {@code +1} and is the sandbox's default route. runsc ({@code --network=sandbox}) copies that
 * interface into gVisor's own network stack (netstack), so the sandbox's TCP/IP runs in the Sentry
 * and the host kernel only forwards its packets. The host routes and masquerades them; iptables
 * chains drop what the sandbox sends to the host itself, to other sandboxes, to link-local
 * addresses (cloud metadata), and anything that tries to reach a sandbox from outside.
 *
 * <p>Slots of {@code 10.200.0.0/16} are claimed host-wide by creating {@code
 * /run/forkyard/net/slot-N} (atomic, so concurrent services on other state directories never share
 * one); the claim names the sandbox and the state directory so each service finds its own
 * leftovers. /run is emptied at reboot together with every namespace it described.
 */
final class Networks {
  private static final Logger LOG = LoggerFactory.getLogger(Networks.class);

  static final Path CLAIMS = Path.of("/run/forkyard/net");
  static final String SUBNET = "10.200.0.0/16";
  private static final int SLOTS = 16384;
  private static final Duration STALE_CLAIM = Duration.ofMinutes(1);
  private static final long CALL_MS = 20_000;
  private static final File DEV_NULL = new File("/dev/null");

  /** Serializes host-wide iptables setup inside this JVM; the file lock does it across JVMs. */
  private static final ReentrantLock JVM_LOCK = new ReentrantLock();

  static final String CHAIN = "FORKYARD";
  static final String LISTS_CHAIN = "FORKYARD-LISTS";

  private final Path stateDir;
  private volatile boolean hostReady;

  Networks(Path stateDir) {
    this.stateDir = stateDir.toAbsolutePath().normalize();
  }

  /** One sandbox's share of the network: its slot, namespace, interface and filter chain. */
  record Lease(SandboxId id, int slot) {
    String hex() {
      return id.value().substring(3);
    }

    String netns() {
      return "fy-" + id.value();
    }

    Path nsPath() {
      return Path.of("/run/netns", netns());
    }

    String hostIf() {
      return "fyh" + hex();
    }

    String chain() {
      return "FY-" + hex();
    }

    String hostAddr() {
      return address(1);
    }

    String sandboxAddr() {
      return address(2);
    }

    private String address(int offset) {
      int v = slot * 4 + offset;
      return "10.200." + (v >> 8) + "." + (v & 255);
    }
  }

  /** What this host lacks for internet access, if anything (names apt packages to install). */
  static Optional<String> missingTools() {
    List<String> missing = new ArrayList<>();
    for (String[] tool :
        new String[][] {
          {"ip", "iproute2"},
          {"iptables", "iptables"},
          {"iptables-restore", "iptables"},
          {"unshare", "util-linux"},
          {"nsenter", "util-linux"}
        }) {
      if (find(tool[0]).isEmpty() && !missing.contains(tool[1])) {
        missing.add(tool[1]);
      }
    }
    if (missing.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        "internet access needs "
            + String.join(", ", missing)
            + " on the host: run 'apt-get install "
            + String.join(" ", missing)
            + "' as root");
  }

  /**
   * Gives {@code id} a fresh namespace and veth pair (an earlier one of the same id is removed
   * first: runsc strips the addresses from the interface it copies, so a namespace serves one boot)
   * and, for allow or deny lists, its own filter chain.
   *
   * @return the path of the namespace for the OCI spec
   */
  Lease create(SandboxId id, NetworkPolicy policy) {
    missingTools()
        .ifPresent(
            m -> {
              throw new UnsupportedByRuntimeException(m);
            });
    List<String> deny = resolveAll(policy.denyList());
    List<String> allow = resolveAll(policy.allowList());
    ensureHost();
    remove(id);
    Lease lease = new Lease(id, claim(id));
    try {
      run(
          List.of(
              "/bin/sh",
              "-ec",
              """
              ip netns add "$1"
              ip link add "$2" type veth peer name eth0 netns "$1"
              if [ -e /proc/sys/net/ipv6/conf/"$2"/disable_ipv6 ]; then
                echo 1 > /proc/sys/net/ipv6/conf/"$2"/disable_ipv6
              fi
              ip addr add "$3/30" dev "$2"
              ip link set "$2" up
              ip -n "$1" link set lo up
              ip -n "$1" addr add "$4/30" dev eth0
              ip -n "$1" link set eth0 up
              ip -n "$1" route add default via "$3"
              """,
              "forkyard-net",
              lease.netns(),
              lease.hostIf(),
              lease.hostAddr(),
              lease.sandboxAddr()),
          "set up the network of " + id);
      if (!allow.isEmpty() || !deny.isEmpty()) {
        installFilter(lease, allow, deny);
      }
      return lease;
    } catch (RuntimeException e) {
      removeQuietly(id);
      throw e;
    }
  }

  /** Removes everything {@link #create} made for {@code id}; a no-op when there is nothing. */
  void remove(SandboxId id) {
    Optional<Lease> lease = findLease(id);
    String hex = id.value().substring(3);
    Path ns = Path.of("/run/netns", "fy-" + id.value());
    if (lease.isEmpty()
        && !Files.exists(ns)
        && !Files.exists(Path.of("/sys/class/net", "fyh" + hex))) {
      // the common case, a sandbox without network: its filter chain, made after the claim and
      // removed before it, cannot exist either
      return;
    }
    // deleting the host end removes both ends at once, even while a dying sandbox holds the ns
    if (Files.exists(Path.of("/sys/class/net", "fyh" + hex))) {
      call(List.of(tool("ip"), "link", "del", "fyh" + hex));
    }
    if (Files.exists(ns)) {
      Result r = call(List.of(tool("ip"), "netns", "del", "fy-" + id.value()));
      if (!r.ok() && Files.exists(ns)) {
        throw new ForkyardException(
            ErrorCode.INTERNAL, "cannot remove network namespace of " + id + ": " + r.message());
      }
    }
    if (call(List.of(tool("iptables"), "-w", "-S", "FY-" + hex)).ok()) {
      restore(
          "*filter\n"
              + "-D "
              + LISTS_CHAIN
              + " -i fyh"
              + hex
              + " -j FY-"
              + hex
              + "\n-F FY-"
              + hex
              + "\n-X FY-"
              + hex
              + "\nCOMMIT\n",
          "remove the network filter of " + id);
    }
    lease.ifPresent(l -> deleteQuietly(claimFile(l.slot())));
  }

  private void removeQuietly(SandboxId id) {
    try {
      remove(id);
    } catch (RuntimeException e) {
      LOG.warn("cleanup of the network of {} failed: {}", id, e.toString());
    }
  }

  /** Sandboxes of this state directory that hold a network. */
  Set<SandboxId> leased() {
    Set<SandboxId> ids = new HashSet<>();
    for (Claim c : claims()) {
      if (c.stateDir().equals(stateDir.toString())) {
        ids.add(c.id());
      }
    }
    return ids;
  }

  // ---- slots ----

  private record Claim(int slot, SandboxId id, String stateDir, Instant created) {}

  private static Path claimFile(int slot) {
    return CLAIMS.resolve("slot-" + slot);
  }

  private Optional<Lease> findLease(SandboxId id) {
    for (Claim c : claims()) {
      if (c.id().equals(id)) {
        return Optional.of(new Lease(id, c.slot()));
      }
    }
    return Optional.empty();
  }

  private static List<Claim> claims() {
    List<Claim> out = new ArrayList<>();
    if (!Files.isDirectory(CLAIMS)) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(CLAIMS, "slot-*")) {
      for (Path p : ds) {
        readClaim(p).ifPresent(out::add);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + CLAIMS, e);
    }
    return out;
  }

  private static Optional<Claim> readClaim(Path p) {
    try {
      int slot = Integer.parseInt(p.getFileName().toString().substring(5));
      List<String> lines = Files.readAllLines(p, StandardCharsets.UTF_8);
      if (lines.size() < 2 || !lines.get(0).matches("sb-[0-9a-f]{12}")) {
        return Optional.empty();
      }
      Instant created = Files.getLastModifiedTime(p).toInstant();
      return Optional.of(new Claim(slot, SandboxId.of(lines.get(0)), lines.get(1), created));
    } catch (NoSuchFileException | NumberFormatException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p, e);
    }
  }

  /**
   * Claims a free slot by creating its file. A claim whose namespace is gone and which is older
   * than a minute (a crashed service, a deleted state directory) is taken over.
   */
  private int claim(SandboxId id) {
    try {
      Files.createDirectories(CLAIMS);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + CLAIMS, e);
    }
    Set<Integer> used = new HashSet<>();
    Instant staleBefore = Instant.now().minus(STALE_CLAIM);
    for (Claim c : claims()) {
      boolean stale =
          c.created().isBefore(staleBefore)
              && !Files.exists(Path.of("/run/netns", "fy-" + c.id().value()));
      if (stale) {
        deleteQuietly(claimFile(c.slot()));
      } else {
        used.add(c.slot());
      }
    }
    String content = id.value() + "\n" + stateDir + "\n";
    int start = Math.floorMod(id.value().hashCode(), SLOTS - 1) + 1;
    for (int i = 0; i < SLOTS - 1; i++) {
      int slot = (start + i - 1) % (SLOTS - 1) + 1;
      if (used.contains(slot)) {
        continue;
      }
      try {
        Files.writeString(
            claimFile(slot), content, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW);
        return slot;
      } catch (FileAlreadyExistsException e) {
        // another service took it meanwhile: try the next
      } catch (IOException e) {
        throw new UncheckedIOException("cannot claim a network slot in " + CLAIMS, e);
      }
    }
    throw new ForkyardException(
        ErrorCode.LIMIT_EXCEEDED,
        "all " + (SLOTS - 1) + " sandbox networks of " + SUBNET + " are in use");
  }

  // ---- host rules ----

  /**
   * Forwarding on, and the FORKYARD chains in place: replies and nothing else may reach a sandbox;
   * a sandbox may not reach the host, other sandboxes or link-local addresses; the rest goes out
   * masqueraded. Done once per JVM, under a host-wide lock.
   */
  private void ensureHost() {
    if (hostReady) {
      return;
    }
    withHostLock(
        () -> {
          if (hostReady) {
            return;
          }
          checkSubnetFree();
          Path forward = Path.of("/proc/sys/net/ipv4/ip_forward");
          try {
            if (!Files.readString(forward).strip().equals("1")) {
              Files.writeString(forward, "1\n");
              LOG.info("enabled IPv4 forwarding (net.ipv4.ip_forward=1) for sandbox internet");
            }
          } catch (IOException e) {
            throw new ForkyardException(
                ErrorCode.INTERNAL, "cannot enable IPv4 forwarding: " + e.getMessage(), e);
          }
          String ipt = tool("iptables");
          if (!call(List.of(ipt, "-w", "-S", LISTS_CHAIN)).ok()) {
            run(List.of(ipt, "-w", "-N", LISTS_CHAIN), "create iptables chain " + LISTS_CHAIN);
          }
          restore(
              String.join(
                  "\n",
                  "*filter",
                  ":" + CHAIN + " - [0:0]",
                  "-A " + CHAIN + " -o fyh+ -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
                  "-A " + CHAIN + " -o fyh+ -j DROP",
                  "-A " + CHAIN + " -i fyh+ -d 169.254.0.0/16 -j DROP",
                  "-A " + CHAIN + " -i fyh+ -j " + LISTS_CHAIN,
                  "-A " + CHAIN + " -i fyh+ -j ACCEPT",
                  "COMMIT",
                  ""),
              "install the " + CHAIN + " iptables chain");
          ensureRule(List.of("FORWARD", "-i", "fyh+", "-j", CHAIN), true);
          ensureRule(List.of("FORWARD", "-o", "fyh+", "-j", CHAIN), true);
          ensureRule(List.of("INPUT", "-i", "fyh+", "-j", "DROP"), true);
          ensureRule(
              List.of(
                  "-t", "nat", "POSTROUTING", "-s", SUBNET, "!", "-o", "fyh+", "-j", "MASQUERADE"),
              false);
          hostReady = true;
        });
  }

  /** A host route into 10.200.0.0/16 that is not ours would swallow sandbox traffic. */
  private static void checkSubnetFree() {
    Result r = call(List.of(tool("ip"), "-4", "route", "show", "root", SUBNET));
    for (String line : r.output().lines().toList()) {
      if (!line.isBlank() && !line.contains(" dev fyh")) {
        throw new ForkyardException(
            ErrorCode.INTERNAL,
            "the host already routes part of "
                + SUBNET
                + " ("
                + line.strip()
                + "), which forkyard uses for sandbox networks");
      }
    }
  }

  private static void ensureRule(List<String> rule, boolean first) {
    String ipt = tool("iptables");
    List<String> table = new ArrayList<>();
    List<String> spec = rule;
    if (rule.get(0).equals("-t")) {
      table = List.of("-t", rule.get(1));
      spec = rule.subList(2, rule.size());
    }
    List<String> check = new ArrayList<>(List.of(ipt, "-w"));
    check.addAll(table);
    check.add("-C");
    check.addAll(spec);
    if (call(check).ok()) {
      return;
    }
    List<String> add = new ArrayList<>(List.of(ipt, "-w"));
    add.addAll(table);
    if (first) {
      add.add("-I");
      add.add(spec.get(0));
      add.add("1");
      add.addAll(spec.subList(1, spec.size()));
    } else {
      add.add("-A");
      add.addAll(spec);
    }
    run(add, "add iptables rule " + String.join(" ", rule));
  }

  /**
   * The sandbox's own chain, jumped to from FORKYARD-LISTS: denied addresses are rejected; with an
   * allow list, only the host's name servers and the listed addresses are let through.
   */
  private void installFilter(Lease lease, List<String> allow, List<String> deny) {
    StringBuilder rules = new StringBuilder("*filter\n");
    String chain = lease.chain();
    rules.append(':').append(chain).append(" - [0:0]\n");
    for (String cidr : deny) {
      reject(rules, chain, " -d " + cidr);
    }
    if (!allow.isEmpty()) {
      for (String ns : Resolv.hostNameservers()) {
        for (String proto : List.of("udp", "tcp")) {
          rules
              .append("-A ")
              .append(chain)
              .append(" -d ")
              .append(ns)
              .append(" -p ")
              .append(proto)
              .append(" --dport 53 -j RETURN\n");
        }
      }
      for (String cidr : allow) {
        rules.append("-A ").append(chain).append(" -d ").append(cidr).append(" -j RETURN\n");
      }
      reject(rules, chain, "");
    }
    rules
        .append("-A ")
        .append(LISTS_CHAIN)
        .append(" -i ")
        .append(lease.hostIf())
        .append(" -j ")
        .append(chain)
        .append("\nCOMMIT\n");
    restore(rules.toString(), "install the network filter of " + lease.id());
  }

  /** Refused, not dropped: a TCP reset or ICMP error makes the sandbox's connect fail at once. */
  private static void reject(StringBuilder rules, String chain, String match) {
    rules.append("-A ").append(chain).append(match);
    rules.append(" -p tcp -j REJECT --reject-with tcp-reset\n");
    rules.append("-A ").append(chain).append(match).append(" -j REJECT\n");
  }

  /**
   * Allow and deny entries as IPv4 CIDRs: addresses and ranges as given, host names resolved now,
   * on the host (the sandbox's own lookups may later get other addresses of the same name).
   */
  static List<String> resolveAll(List<String> entries) {
    Set<String> out = new LinkedHashSet<>();
    for (String e : entries) {
      if (e.contains("*")) {
        throw new UnsupportedByRuntimeException(
            "the gvisor runtime filters by address and cannot follow wildcard names like '"
                + e
                + "': list the host names themselves");
      }
      if (e.contains(":")) {
        throw new UnsupportedByRuntimeException(
            "sandboxes get IPv4 only; '" + e + "' is IPv6: give an IPv4 address or a host name");
      }
      if (e.matches("\\d{1,3}(\\.\\d{1,3}){3}(/\\d{1,2})?")) {
        out.add(checkCidr(e));
        continue;
      }
      try {
        int before = out.size();
        for (InetAddress a : InetAddress.getAllByName(e)) {
          if (a instanceof Inet4Address) {
            out.add(a.getHostAddress() + "/32");
          }
        }
        if (out.size() == before) {
          throw new InvalidRequestException("host '" + e + "' has no IPv4 address");
        }
      } catch (UnknownHostException ex) {
        throw new InvalidRequestException(
            "cannot resolve host '" + e + "' for the network allow/deny list");
      }
    }
    return List.copyOf(out);
  }

  private static String checkCidr(String e) {
    String[] parts = e.split("/");
    for (String octet : parts[0].split("\\.")) {
      if (Integer.parseInt(octet) > 255) {
        throw new InvalidRequestException("not an IPv4 address: '" + e + "'");
      }
    }
    int bits = parts.length > 1 ? Integer.parseInt(parts[1]) : 32;
    if (bits > 32) {
      throw new InvalidRequestException("not an IPv4 range: '" + e + "'");
    }
    return parts[0] + "/" + bits;
  }

  // ---- processes ----

  private interface Action {
    void run();
  }

  private static void withHostLock(Action action) {
    JVM_LOCK.lock();
    try {
      Files.createDirectories(CLAIMS);
      try (FileChannel ch =
              FileChannel.open(
                  CLAIMS.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
          FileLock ignored = ch.lock()) {
        action.run();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot lock " + CLAIMS, e);
    } finally {
      JVM_LOCK.unlock();
    }
  }

  private static void restore(String rules, String what) {
    Result r = call(List.of(tool("iptables-restore"), "-w", "--noflush"), rules);
    if (!r.ok()) {
      throw new ForkyardException(
          ErrorCode.INTERNAL, "cannot " + what + ": " + r.message() + "\n" + rules);
    }
  }

  /** Exit code and merged output of a host tool. */
  record Result(int exitCode, String output) {
    boolean ok() {
      return exitCode == 0;
    }

    String message() {
      String text = output.strip();
      return text.isEmpty() ? "exit code " + exitCode : text;
    }
  }

  private static void run(List<String> cmd, String what) {
    Result r = call(cmd);
    if (!r.ok()) {
      throw new ForkyardException(ErrorCode.INTERNAL, "cannot " + what + ": " + r.message());
    }
  }

  static Result call(List<String> cmd) {
    return call(cmd, null);
  }

  private static Result call(List<String> cmd, String stdin) {
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    if (stdin == null) {
      pb.redirectInput(DEV_NULL);
    }
    try {
      Process p = pb.start();
      if (stdin != null) {
        try (var in = p.getOutputStream()) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      // ip and iptables print little and exit promptly; -w makes iptables wait for its lock
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(CALL_MS, TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new ForkyardException(
            ErrorCode.TIMEOUT, cmd.get(0) + " did not finish within " + CALL_MS + " ms");
      }
      return new Result(p.exitValue(), out);
    } catch (IOException e) {
      throw new ForkyardException(
          ErrorCode.INTERNAL, "cannot run " + cmd.get(0) + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ForkyardException(ErrorCode.INTERNAL, "interrupted while running " + cmd.get(0));
    }
  }

  static String tool(String name) {
    return find(name).map(Path::toString).orElse(name);
  }

  private static Optional<Path> find(String name) {
    for (String dir : List.of("/usr/sbin", "/usr/bin", "/sbin", "/bin")) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      LOG.debug("cannot delete {}: {}", p, e.toString());
    }
  }
}
