package io.forkyard.core.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class DebootstrapProgressTest {
  /** Shortened from a real `debootstrap --variant=minbase bookworm` run on this project's host. */
  static final String SAMPLE =
      """
      I: Target architecture can be executed
      I: Retrieving InRelease\s
      I: Checking Release signature
      I: Valid Release signature (key id 4D64FEC119C2029067D6E791F8D2585B8783D481)
      I: Retrieving Packages\s
      I: Validating Packages\s
      I: Resolving dependencies of required packages...
      I: Resolving dependencies of base packages...
      I: Checking component main on http://deb.debian.org/debian...
      I: Retrieving adduser 3.134
      I: Validating adduser 3.134
      I: Retrieving bash 5.2.15-2+b13
      I: Validating bash 5.2.15-2+b13
      I: Retrieving zlib1g 1:1.2.13.dfsg-1
      I: Validating zlib1g 1:1.2.13.dfsg-1
      I: Chosen extractor for .deb packages: dpkg-deb
      I: Extracting bash...
      I: Extracting zlib1g...
      I: Installing core packages...
      I: Unpacking required packages...
      I: Unpacking bash...
      I: Unpacking zlib1g:amd64...
      W: some warning
      I: Configuring required packages...
      I: Configuring bash...
      I: Configuring zlib1g:amd64...
      I: Unpacking the base system...
      I: Unpacking adduser...
      I: Configuring adduser...
      I: Base system installed successfully.
      """;

  record Step(String step, long done, long total) {}

  @Test
  void turnsDebootstrapLinesIntoCountedSteps() {
    List<Step> steps = new ArrayList<>();
    DebootstrapProgress p = new DebootstrapProgress((s, d, t) -> steps.add(new Step(s, d, t)));
    SAMPLE.lines().forEach(p);

    assertThat(p.packages()).isEqualTo(3);
    assertThat(steps)
        .containsExactly(
            new Step(DebootstrapProgress.INDEX, 0, -1),
            new Step(DebootstrapProgress.INDEX, 0, -1),
            new Step(DebootstrapProgress.RESOLVING, 0, -1),
            new Step(DebootstrapProgress.RESOLVING, 0, -1),
            new Step(DebootstrapProgress.DOWNLOADING, 1, -1),
            new Step(DebootstrapProgress.DOWNLOADING, 2, -1),
            new Step(DebootstrapProgress.DOWNLOADING, 3, -1),
            new Step(DebootstrapProgress.EXTRACTING, 1, 3),
            new Step(DebootstrapProgress.EXTRACTING, 2, 3),
            new Step(DebootstrapProgress.INSTALLING, 0, -1),
            new Step(DebootstrapProgress.UNPACKING, 1, 3),
            new Step(DebootstrapProgress.UNPACKING, 2, 3),
            new Step(DebootstrapProgress.CONFIGURING, 1, 3),
            new Step(DebootstrapProgress.CONFIGURING, 2, 3),
            new Step(DebootstrapProgress.UNPACKING, 3, 3),
            new Step(DebootstrapProgress.CONFIGURING, 3, 3),
            new Step(DebootstrapProgress.INSTALLED, 3, 3));
  }

  @Test
  void neverReportsMoreDoneThanTotal() {
    List<Step> steps = new ArrayList<>();
    DebootstrapProgress p = new DebootstrapProgress((s, d, t) -> steps.add(new Step(s, d, t)));
    List.of("I: Retrieving bash 5", "I: Unpacking bash...", "I: Unpacking dash...").forEach(p);
    assertThat(steps).allMatch(s -> s.total() < 0 || s.done() <= s.total());
  }

  @Test
  void ignoresLinesThatAreNotInfo() {
    List<Step> steps = new ArrayList<>();
    DebootstrapProgress p = new DebootstrapProgress((s, d, t) -> steps.add(new Step(s, d, t)));
    List.of("E: Couldn't find these debs: nosuch", "", "random noise", "I:").forEach(p);
    assertThat(steps).isEmpty();
  }
}
