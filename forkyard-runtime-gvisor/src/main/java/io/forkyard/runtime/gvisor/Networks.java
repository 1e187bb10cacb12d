package io.forkyard.runtime.gvisor;

import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.NetworkPolicy;
import io.forkyard.api.SandboxId;
import io.forkyard.api.UnsupportedByRuntimeException;
import io.forkyard.core.spi.HostLock;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
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

  static final String CHAIN = "FORKYARD";
  static final String LISTS_CHAIN = "FORKYARD-LISTS";

  private final Path stateDir;

  Networks(Path stateDir) {
    this.stateDir = stateDir.toAbsolutePath().normalize();
  }

  /** The host-side names of a sandbox's network, all derived from its id. */
  static String netns(SandboxId id) {
    return "fy-" + id.value();
  }

  static Path nsPath(SandboxId id) {
    return Path.of("/run/netns", netns(id));
  }

  /** The host end of the veth pair; 15 characters, the kernel's limit for interface names. */
  static String hostIf(SandboxId id) {
    return "fyh" + hex(id);
  }

  static String chain(SandboxId id) {
    return "FY-" + hex(id);
  }

  private static String hex(SandboxId id) {
    return id.value().substring(3);
  }

  /** One sandbox's share of the network: its slot, namespace, interface and filter chain. */
  record Lease(SandboxId id, int slot) {
    String netns() {
      return Networks.netns(id);
    }

    Path nsPath() {
      return Networks.nsPath(id);
    }

    String hostIf() {
      return Networks.hostIf(id);
    }

    String chain() {
      return Networks.chain(id);
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
    if (lease.isEmpty() && !hasNetworkBits(id)) {
      // the common case, a sandbox without network: its filter chain, made after the claim and
      // removed before it, cannot exist either
      return;
    }
    teardown(id);
    lease.ifPresent(l -> release(l.slot(), id));
  }

  private static boolean hasNetworkBits(SandboxId id) {
    return Files.exists(nsPath(id)) || Files.exists(Path.of("/sys/class/net", hostIf(id)));
  }

  /** The namespace, veth pair and filter chain of {@code id}, whoever claimed them. */
  private static void teardown(SandboxId id) {
    // deleting the host end removes both ends at once, even while a dying sandbox holds the ns
    if (Files.exists(Path.of("/sys/class/net", hostIf(id)))) {
      call(List.of(tool("ip"), "link", "del", hostIf(id)));
    }
    if (Files.exists(nsPath(id))) {
      Result r = call(List.of(tool("ip"), "netns", "del", netns(id)));
      if (!r.ok() && Files.exists(nsPath(id))) {
        throw new ForkyardException(
            ErrorCode.INTERNAL, "cannot remove network namespace of " + id + ": " + r.message());
      }
    }
    String chain = chain(id);
    if (call(List.of(tool("iptables"), "-w", "-S", chain)).ok()) {
      restore(
          "*filter\n-D "
              + LISTS_CHAIN
              + " -i "
              + hostIf(id)
              + " -j "
              + chain
              + "\n-F "
              + chain
              + "\n-X "
              + chain
              + "\nCOMMIT\n",
          "remove the network filter of " + id);
    }
  }

  /**
   * Frees slot {@code slot} if {@code id} still holds it: a claim taken over meanwhile (below)
   * belongs to someone else now.
   */
  private static void release(int slot, SandboxId id) {
    withHostLock(
        () -> {
          Optional<Claim> c = readClaim(claimFile(slot));
          if (c.isPresent() && c.get().id().equals(id)) {
            deleteQuietly(claimFile(slot));
          }
        });
  }

  /**
   * Removes the networks of this state directory's sandboxes that no runsc container uses any more
   * and that were claimed over {@code minAge} ago (younger ones may be a start in progress): what a
   * crashed process left behind.
   */
  void reapLeaked(Set<SandboxId> containers, Duration minAge) {
    Instant before = Instant.now().minus(minAge);
    for (Claim c : claims()) {
      if (c.stateDir().equals(stateDir.toString())
          && !containers.contains(c.id())
          && c.created().isBefore(before)) {
        LOG.info("removing the network of {}, which no sandbox uses any more", c.id());
        removeQuietly(c.id());
      }
    }
  }

  private void removeQuietly(SandboxId id) {
    try {
      remove(id);
    } catch (RuntimeException e) {
      LOG.warn("cleanup of the network of {} failed: {}", id, e.toString());
    }
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
   * Claims a free slot by creating its file, under the host lock. A claim is taken over, after
   * removing what it describes, when its state directory is gone, or when it is over a minute old
   * and its namespace is gone (a crashed service).
   */
  private int claim(SandboxId id) {
    int[] slot = new int[1];
    withHostLock(() -> slot[0] = claimLocked(id));
    return slot[0];
  }

  private int claimLocked(SandboxId id) {
    Set<Integer> used = new HashSet<>();
    Instant staleBefore = Instant.now().minus(STALE_CLAIM);
    for (Claim c : claims()) {
      boolean orphaned = !Files.isDirectory(Path.of(c.stateDir()));
      boolean crashed = c.created().isBefore(staleBefore) && !Files.exists(nsPath(c.id()));
      if (orphaned || crashed) {
        try {
          teardown(c.id());
          deleteQuietly(claimFile(c.slot()));
          continue;
        } catch (RuntimeException e) {
          LOG.warn("cannot take over the network slot of {}: {}", c.id(), e.toString());
        }
      }
      used.add(c.slot());
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
        // claimed outside the lock (an older forkyard): try the next
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
   * Forwarding on, and the FORKYARD rules in place and first in their chains. Checked at every
   * create (one iptables-save), because a firewall reload (iptables -F, ufw, firewalld) may have
   * removed them or put its own rules in front, which would let sandbox traffic through unfiltered;
   * reinstalled under the host lock when anything is off.
   */
  private void ensureHost() {
    if (hostRulesInPlace()) {
      return;
    }
    withHostLock(
        () -> {
          if (!hostRulesInPlace()) {
            installHostRules();
            if (!hostRulesInPlace()) {
              throw new ForkyardException(
                  ErrorCode.INTERNAL,
                  "installed the FORKYARD iptables rules but cannot find them in iptables-save"
                      + " output; see docs/runtimes/gvisor.md");
            }
          }
        });
  }

  private static final Path IP_FORWARD = Path.of("/proc/sys/net/ipv4/ip_forward");

  /** The rules this class installs, as iptables-save prints them, by table. */
  static final List<String> RAW_RULES =
      List.of("-A PREROUTING -i fyh+ -m addrtype --dst-type LOCAL -j DROP");

  static final List<String> FILTER_FIRST =
      List.of(
          "-A INPUT -i fyh+ -j DROP",
          "-A FORWARD -i fyh+ -j " + CHAIN,
          "-A FORWARD -o fyh+ -j " + CHAIN);

  static final List<String> CHAIN_RULES =
      List.of(
          "-A " + CHAIN + " -o fyh+ -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
          "-A " + CHAIN + " -o fyh+ -j DROP",
          "-A " + CHAIN + " ! -s " + SUBNET + " -i fyh+ -j DROP",
          "-A " + CHAIN + " -i fyh+ -m conntrack --ctstate DNAT -j DROP",
          "-A " + CHAIN + " -d 169.254.0.0/16 -i fyh+ -j DROP",
          "-A " + CHAIN + " -i fyh+ -j " + LISTS_CHAIN,
          "-A " + CHAIN + " -i fyh+ -j ACCEPT");

  static final String NAT_RULE = "-A POSTROUTING -s " + SUBNET + " ! -o fyh+ -j MASQUERADE";

  private static boolean hostRulesInPlace() {
    try {
      if (!Files.readString(IP_FORWARD).strip().equals("1")) {
        return false;
      }
    } catch (IOException e) {
      return false;
    }
    Result dump = call(List.of(tool("iptables-save")));
    return dump.ok() && rulesInPlace(dump.output());
  }

  /**
   * Whether an iptables-save dump has our rules: the raw PREROUTING drop and the INPUT drop first
   * in their chains, the two FORWARD jumps before any other FORWARD rule, the FORKYARD chain
   * exactly as installed, the lists chain, and the masquerade rule.
   */
  static boolean rulesInPlace(String dump) {
    java.util.Map<String, List<String>> tables = new java.util.HashMap<>();
    String table = "";
    for (String line : dump.lines().toList()) {
      if (line.startsWith("*")) {
        table = line.substring(1).strip();
      } else if (line.startsWith("-A ") || line.startsWith(":")) {
        tables.computeIfAbsent(table, t -> new ArrayList<>()).add(line.strip());
      }
    }
    List<String> raw = tables.getOrDefault("raw", List.of());
    List<String> filter = tables.getOrDefault("filter", List.of());
    List<String> nat = tables.getOrDefault("nat", List.of());
    return firstOf(raw, "PREROUTING", 1).equals(RAW_RULES)
        && firstOf(filter, "INPUT", 1).equals(FILTER_FIRST.subList(0, 1))
        && new HashSet<>(firstOf(filter, "FORWARD", 2))
            .equals(new HashSet<>(FILTER_FIRST.subList(1, 3)))
        && firstOf(filter, CHAIN, Integer.MAX_VALUE).equals(CHAIN_RULES)
        && filter.stream().anyMatch(l -> l.startsWith(":" + LISTS_CHAIN + " "))
        && nat.contains(NAT_RULE);
  }

  private static List<String> firstOf(List<String> rules, String chain, int n) {
    return rules.stream().filter(l -> l.startsWith("-A " + chain + " ")).limit(n).toList();
  }

  private static void installHostRules() {
    checkSubnetFree();
    try {
      if (!Files.readString(IP_FORWARD).strip().equals("1")) {
        Files.writeString(IP_FORWARD, "1\n");
        LOG.warn(
            "enabled IPv4 forwarding (net.ipv4.ip_forward=1) for sandbox internet access: this"
                + " host now routes packets between its interfaces; set the FORWARD policy to DROP"
                + " if other traffic must not pass (docs/runtimes/gvisor.md)");
      }
    } catch (IOException e) {
      throw new ForkyardException(
          ErrorCode.INTERNAL, "cannot enable IPv4 forwarding: " + e.getMessage(), e);
    }
    String ipt = tool("iptables");
    if (!call(List.of(ipt, "-w", "-S", LISTS_CHAIN)).ok()) {
      run(List.of(ipt, "-w", "-N", LISTS_CHAIN), "create iptables chain " + LISTS_CHAIN);
    }
    StringBuilder chain = new StringBuilder("*filter\n:" + CHAIN + " - [0:0]\n");
    CHAIN_RULES.forEach(r -> chain.append(r).append('\n'));
    restore(chain.append("COMMIT\n").toString(), "install the " + CHAIN + " iptables chain");
    first(List.of("-t", "raw"), RAW_RULES.get(0));
    for (String rule : FILTER_FIRST) {
      first(List.of(), rule);
    }
    List<String> nat = new ArrayList<>(List.of(ipt, "-w", "-t", "nat", "-C"));
    nat.addAll(args(NAT_RULE));
    if (!call(nat).ok()) {
      List<String> add = new ArrayList<>(List.of(ipt, "-w", "-t", "nat"));
      add.addAll(withVerb(NAT_RULE, "-A"));
      run(add, "add iptables rule " + NAT_RULE);
    }
  }

  /** Puts {@code rule} ("-A CHAIN ...") first in its chain, removing copies elsewhere in it. */
  private static void first(List<String> table, String rule) {
    String ipt = tool("iptables");
    for (int i = 0; i < 20; i++) {
      List<String> del = new ArrayList<>(List.of(ipt, "-w"));
      del.addAll(table);
      del.addAll(withVerb(rule, "-D"));
      if (!call(del).ok()) {
        break;
      }
    }
    List<String> ins = new ArrayList<>(List.of(ipt, "-w"));
    ins.addAll(table);
    List<String> a = args(rule);
    ins.add("-I");
    ins.add(a.get(0));
    ins.add("1");
    ins.addAll(a.subList(1, a.size()));
    run(ins, "add iptables rule " + rule);
  }

  /** "-A CHAIN x y" as arguments "CHAIN x y". */
  private static List<String> args(String rule) {
    List<String> a = new ArrayList<>(List.of(rule.split(" ")));
    a.remove(0);
    return a;
  }

  private static List<String> withVerb(String rule, String verb) {
    List<String> a = new ArrayList<>();
    a.add(verb);
    a.addAll(args(rule));
    return a;
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

  /** An IPv4 address or range, rebuilt from its numbers (iptables reads 010 as octal). */
  private static String checkCidr(String e) {
    String[] parts = e.split("/");
    String[] octets = parts[0].split("\\.");
    StringBuilder addr = new StringBuilder();
    for (String octet : octets) {
      int v = Integer.parseInt(octet);
      if (v > 255) {
        throw new InvalidRequestException("not an IPv4 address: '" + e + "'");
      }
      addr.append(addr.isEmpty() ? "" : ".").append(v);
    }
    int bits = parts.length > 1 ? Integer.parseInt(parts[1]) : 32;
    if (bits > 32) {
      throw new InvalidRequestException("not an IPv4 range: '" + e + "'");
    }
    return addr + "/" + bits;
  }

  // ---- processes ----

  private static void withHostLock(Runnable action) {
    try (HostLock l = HostLock.acquire(CLAIMS.resolve(".lock"))) {
      action.run();
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
