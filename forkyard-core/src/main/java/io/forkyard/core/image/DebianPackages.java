package io.forkyard.core.image;

import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.NotFoundException;
import io.forkyard.api.RuntimeUnavailableException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings Debian packages into an image or sandbox that has no network: the host's apt resolves and
 * downloads them, as .deb files, against the rootfs's own dpkg status, so exactly the packages (and
 * dependencies) that rootfs lacks are fetched. Copy the files into the sandbox and install them
 * there with {@code dpkg -i *.deb} (all at once, so dpkg orders them).
 *
 * <p>The host's apt sources decide versions: this fits rootfs trees of the host's Debian release
 * (the default images are). Needs apt-get on the host and, for {@code apt-get update} when the host
 * has no package lists yet, root.
 */
public final class DebianPackages {
  private static final Logger LOG = LoggerFactory.getLogger(DebianPackages.class);
  private static final Pattern PACKAGE = Pattern.compile("[a-z0-9][a-z0-9+.-]+");
  private static final Pattern NOT_FOUND = Pattern.compile("Unable to locate package (\\S+)");
  private static final Path LISTS = Path.of("/var/lib/apt/lists");

  private DebianPackages() {}

  /**
   * Downloads {@code packages} and the dependencies {@code rootfs} does not have yet into {@code
   * outDir} (created when missing; use a dedicated directory).
   *
   * @return every .deb file in {@code outDir} afterwards, sorted; empty when the rootfs already has
   *     everything
   * @throws InvalidRequestException for a malformed or unknown package name
   * @throws NotFoundException when {@code rootfs} has no dpkg status file
   * @throws RuntimeUnavailableException when apt-get is missing
   */
  public static List<Path> download(Path rootfs, List<String> packages, Path outDir) {
    if (packages.isEmpty()) {
      throw new InvalidRequestException("name at least one Debian package to download");
    }
    for (String p : packages) {
      if (!PACKAGE.matcher(p).matches()) {
        throw new InvalidRequestException("not a Debian package name: '" + p + "'");
      }
    }
    Path status = rootfs.resolve("var/lib/dpkg/status");
    if (!Files.isRegularFile(status)) {
      throw new NotFoundException(
          rootfs + " has no var/lib/dpkg/status: not a Debian root filesystem");
    }
    Path aptGet =
        HostTools.find("apt-get")
            .orElseThrow(
                () ->
                    new RuntimeUnavailableException(
                        "downloading Debian packages needs apt-get on the host (a Debian or"
                            + " Ubuntu host)"));
    try {
      Files.createDirectories(outDir.resolve("partial"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + outDir, e);
    }
    boolean updated = false;
    if (!hasPackageLists()) {
      update(aptGet);
      updated = true;
    }
    List<String> cmd =
        new ArrayList<>(
            List.of(
                aptGet.toString(),
                "install",
                "--download-only",
                "--yes",
                "--no-install-recommends",
                "-o",
                "Dir::State::status=" + status.toAbsolutePath(),
                "-o",
                "Dir::Cache::archives=" + outDir.toAbsolutePath()));
    cmd.addAll(packages);
    HostTools.Outcome out = HostTools.run(cmd, Map.of(), 20, line -> {});
    if (out.exitCode() != 0 && !updated && staleLists(out.tailText())) {
      update(aptGet); // the mirror moved on since the host's last update: 404 on old versions
      out = HostTools.run(cmd, Map.of(), 20, line -> {});
    }
    if (out.exitCode() != 0) {
      Matcher m = NOT_FOUND.matcher(out.tailText());
      if (m.find()) {
        throw new InvalidRequestException(
            "no Debian package named '" + m.group(1) + "' in the host's apt sources");
      }
      throw new ForkyardException(
          ErrorCode.INTERNAL,
          "apt-get could not download "
              + packages
              + " (exit "
              + out.exitCode()
              + "):\n"
              + out.tailText());
    }
    try {
      Files.deleteIfExists(outDir.resolve("lock"));
      Files.deleteIfExists(outDir.resolve("partial"));
    } catch (IOException e) {
      LOG.debug("leaving apt's scratch files in {}: {}", outDir, e.toString());
    }
    return debs(outDir);
  }

  static List<Path> debs(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".deb") && Files.isRegularFile(p))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static boolean hasPackageLists() {
    try (Stream<Path> s = Files.list(LISTS)) {
      return s.anyMatch(p -> p.getFileName().toString().contains("_Packages"));
    } catch (IOException e) {
      return false;
    }
  }

  static boolean staleLists(String aptOutput) {
    return aptOutput.contains("404") || aptOutput.contains("--fix-missing");
  }

  private static void update(Path aptGet) {
    if (!HostTools.isRoot()) {
      throw new RuntimeUnavailableException(
          "the host has no current apt package lists and only root can fetch them:"
              + " run `apt-get update` as root");
    }
    LOG.info("running apt-get update: the host's package lists are missing or stale");
    HostTools.Outcome out =
        HostTools.run(List.of(aptGet.toString(), "update"), Map.of(), 20, l -> {});
    if (out.exitCode() != 0) {
      throw new ForkyardException(
          ErrorCode.INTERNAL,
          "apt-get update failed (exit " + out.exitCode() + "):\n" + out.tailText());
    }
  }
}
