package io.forkyard.runtime.gvisor;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Name servers a sandbox with internet access can use: the host's, minus loopback ones (a sandbox's
 * 127.0.0.53 is its own loopback, not the host's systemd-resolved), in which case
 * systemd-resolved's upstream list is used.
 */
final class Resolv {
  private static final Path HOST = Path.of("/etc/resolv.conf");
  private static final Path SYSTEMD_UPSTREAM = Path.of("/run/systemd/resolve/resolv.conf");

  private Resolv() {}

  /**
   * The host's name servers that a sandbox can reach: not loopback, and not an address of the host
   * itself (a resolver on a host bridge, e.g. libvirt's 192.168.122.1), which the FORKYARD rules
   * keep sandboxes from reaching.
   */
  static List<String> hostNameservers() {
    Set<String> local = hostAddresses();
    List<String> ns = new ArrayList<>(nameservers(read(HOST)));
    ns.removeAll(local);
    if (ns.isEmpty()) {
      ns = new ArrayList<>(nameservers(read(SYSTEMD_UPSTREAM)));
      ns.removeAll(local);
    }
    return ns;
  }

  private static Set<String> hostAddresses() {
    Set<String> out = new HashSet<>();
    try {
      for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        for (InetAddress a : Collections.list(nif.getInetAddresses())) {
          if (a instanceof Inet4Address) {
            out.add(a.getHostAddress());
          }
        }
      }
    } catch (SocketException e) {
      // no interface list: keep every name server
    }
    return out;
  }

  /** resolv.conf text for a sandbox; empty when the host has no usable name server. */
  static String sandboxResolvConf() {
    StringBuilder sb = new StringBuilder();
    for (String ns : hostNameservers()) {
      sb.append("nameserver ").append(ns).append('\n');
    }
    return sb.toString();
  }

  /** IPv4, non-loopback name servers of a resolv.conf text, in order. */
  static List<String> nameservers(String text) {
    List<String> out = new ArrayList<>();
    for (String line : text.lines().toList()) {
      String[] f = line.strip().split("\\s+");
      if (f.length >= 2
          && f[0].equals("nameserver")
          && f[1].matches("\\d{1,3}(\\.\\d{1,3}){3}")
          && !f[1].startsWith("127.")
          && !out.contains(f[1])) {
        out.add(f[1]);
      }
    }
    return out;
  }

  private static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }
}
