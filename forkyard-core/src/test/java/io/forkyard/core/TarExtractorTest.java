package io.forkyard.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TarExtractorTest {
  @TempDir Path tmp;

  /** Minimal ustar writer for building hostile archives in tests. */
  static final class Tar {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Tar entry(String name, char type, String link, byte[] data) {
      byte[] h = new byte[512];
      put(h, 0, name, 100);
      put(h, 100, String.format("%07o", 0644), 8);
      put(h, 108, String.format("%07o", 0), 8);
      put(h, 116, String.format("%07o", 0), 8);
      put(h, 124, String.format("%011o", data.length), 12);
      put(h, 136, String.format("%011o", 0), 12);
      h[156] = (byte) type;
      put(h, 157, link, 100);
      put(h, 257, "ustar", 6);
      put(h, 263, "00", 2);
      for (int i = 148; i < 156; i++) {
        h[i] = ' ';
      }
      int sum = 0;
      for (byte b : h) {
        sum += b & 0xff;
      }
      put(h, 148, String.format("%06o", sum), 7);
      out.writeBytes(h);
      out.writeBytes(data);
      out.writeBytes(new byte[(512 - data.length % 512) % 512]);
      return this;
    }

    Tar file(String name, String content) {
      return entry(name, '0', "", content.getBytes(StandardCharsets.UTF_8));
    }

    byte[] bytes() {
      out.writeBytes(new byte[1024]);
      return out.toByteArray();
    }

    private static void put(byte[] h, int off, String s, int len) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      System.arraycopy(b, 0, h, off, Math.min(b.length, len));
    }
  }

  @Test
  void extractsFilesDirectoriesAndSymlinks() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root"));
    byte[] tar =
        new Tar()
            .entry("work/", '5', "", new byte[0])
            .file("work/a.txt", "hello")
            .entry("work/link", '2', "a.txt", new byte[0])
            .bytes();
    TarExtractor x = new TarExtractor(root);
    x.extract(new ByteArrayInputStream(tar));
    assertThat(Files.readString(root.resolve("work/a.txt"))).isEqualTo("hello");
    assertThat(Files.isSymbolicLink(root.resolve("work/link"))).isTrue();
    assertThat(x.extracted()).isEqualTo(3);
  }

  @Test
  void refusesToWriteThroughSymlinkOutsideTree() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root"));
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    // the base tree already has an absolute symlink, like Debian's /var/run -> /run
    Files.createSymbolicLink(root.resolve("run"), outside);
    byte[] tar =
        new Tar()
            .file("run/pwned", "x")
            .entry("esc", '2', outside.toString(), new byte[0])
            .file("esc/pwned2", "y")
            .file("../pwned3", "z")
            .file("/abs/ok", "fine")
            .bytes();
    TarExtractor x = new TarExtractor(root);
    x.extract(new ByteArrayInputStream(tar));
    try (var s = Files.list(outside)) {
      assertThat(s.toList()).isEmpty();
    }
    assertThat(Files.exists(tmp.resolve("pwned3"))).isFalse();
    assertThat(Files.readString(root.resolve("abs/ok"))).isEqualTo("fine");
    assertThat(x.skipped()).isEqualTo(3);
  }

  @Test
  void replacesHardLinkedFilesInsteadOfWritingIntoThem() throws Exception {
    Path image = Files.createDirectories(tmp.resolve("image"));
    Path root = Files.createDirectories(tmp.resolve("root"));
    Files.writeString(image.resolve("f"), "original");
    Files.createLink(root.resolve("f"), image.resolve("f"));
    new TarExtractor(root)
        .extract(new ByteArrayInputStream(new Tar().file("f", "changed").bytes()));
    assertThat(Files.readString(root.resolve("f"))).isEqualTo("changed");
    assertThat(Files.readString(image.resolve("f"))).isEqualTo("original");
    assertThat(Files.isSymbolicLink(root.resolve("f"))).isFalse();
    assertThat(Files.exists(root.resolve("f"), LinkOption.NOFOLLOW_LINKS)).isTrue();
  }
}
