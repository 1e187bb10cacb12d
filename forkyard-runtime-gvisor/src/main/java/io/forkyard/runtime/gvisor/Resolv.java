package io.forkyard.runtime.gvisor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Name servers a sandbox with internet access can use: the host's, minus loopback ones (a sandbox's
 * 127.0.0.53 is its own loopback, not the host's systemd-resolved), in which case
 * systemd-resolved's upstream list is used.
 */
final class Resolv {
  private static final Path HOST = Path.of("/etc/resolv.conf");
  private static final Path SYSTEMD_UPSTREAM = Path.of("/run/systemd/resolve/resolv.conf");

  private Resolv() {}

  static List<String> hostNameservers() {
    List<String> ns = nameservers(read(HOST));
    if (ns.isEmpty()) {
      ns = nameservers(read(SYSTEMD_UPSTREAM));
    }
    return ns;
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
