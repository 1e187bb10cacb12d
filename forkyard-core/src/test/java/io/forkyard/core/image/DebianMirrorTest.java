package io.forkyard.core.image;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DebianMirrorTest {
  @Test
  void readsMainSuiteUriFromDeb822() {
    String sources =
        """
        Types: deb
        # http://snapshot.debian.org/archive/debian/20250520T000000Z
        URIs: http://mirror.example/debian
        Suites: bookworm bookworm-updates
        Components: main
        Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

        Types: deb
        URIs: http://deb.debian.org/debian-security
        Suites: bookworm-security
        Components: main
        """;
    assertThat(DebianMirror.fromDeb822(sources)).contains("http://mirror.example/debian");
  }

  @Test
  void skipsSecurityAndDisabledStanzas() {
    String sources =
        """
        Types: deb
        URIs: http://old.example/debian
        Suites: bookworm
        Enabled: no

        Types: deb-src
        URIs: http://src.example/debian
        Suites: bookworm

        Types: deb
        URIs: http://deb.debian.org/debian-security
        Suites: bookworm-security
        """;
    assertThat(DebianMirror.fromDeb822(sources)).isEmpty();
  }

  @Test
  void readsOneLineSourcesList() {
    String list =
        """
        # deb http://commented.example/debian bookworm main
        deb http://security.debian.org/debian-security bookworm-security main
        deb [arch=amd64 signed-by=/x.gpg] http://mirror.example/debian bookworm main contrib
        """;
    assertThat(DebianMirror.fromSourcesList(list)).contains("http://mirror.example/debian");
  }

  @Test
  void fallsBackToDebDebianOrg() {
    assertThat(DebianMirror.fromSourcesList("")).isEmpty();
    assertThat(DebianMirror.DEFAULT).isEqualTo("http://deb.debian.org/debian");
  }
}
