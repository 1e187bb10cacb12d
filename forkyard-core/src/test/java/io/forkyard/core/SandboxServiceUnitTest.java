package io.forkyard.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.forkyard.api.FileEntry;
import io.forkyard.core.SnapshotManifest.FileDigest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SandboxServiceUnitTest {
  @TempDir Path tmp;

  @Test
  void parsesFindListing() {
    byte[] raw =
        ("f\u00005\u0000644\u00001700000000.5\u0000a b.txt\u0000"
                + "d\u00004096\u0000755\u00001700000000.0\u0000sub\u0000")
            .getBytes(StandardCharsets.UTF_8);
    List<FileEntry> entries = SandboxService.parseListing("/work", raw);
    assertThat(entries).extracting(FileEntry::name).containsExactly("a b.txt", "sub");
    assertThat(entries.get(0).path()).isEqualTo("/work/a b.txt");
    assertThat(entries.get(0).mode()).isEqualTo(0644);
    assertThat(entries.get(1).type()).isEqualTo(FileEntry.Type.DIRECTORY);
  }

  @Test
  void detectsTruncatedAndCorruptedSnapshotFiles() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("snap/memory"));
    Files.writeString(dir.resolve("checkpoint.img"), "0123456789");
    List<FileDigest> digests = FileTrees.digest(tmp.resolve("snap"), List.of("memory"));
    assertThat(FileTrees.verify(tmp.resolve("snap"), digests, true)).isNull();

    Files.writeString(dir.resolve("checkpoint.img"), "0123456788");
    assertThat(FileTrees.verify(tmp.resolve("snap"), digests, false)).isNull();
    assertThat(FileTrees.verify(tmp.resolve("snap"), digests, true)).contains("checksum");

    Files.writeString(dir.resolve("checkpoint.img"), "01234");
    assertThat(FileTrees.verify(tmp.resolve("snap"), digests, false)).contains("5 bytes");

    Files.delete(dir.resolve("checkpoint.img"));
    assertThat(FileTrees.verify(tmp.resolve("snap"), digests, false)).contains("missing");
    assertThat(FileTrees.verify(tmp.resolve("snap"), List.of(), false)).contains("no data files");
  }
}
