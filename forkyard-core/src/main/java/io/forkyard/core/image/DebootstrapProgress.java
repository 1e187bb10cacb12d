package io.forkyard.core.image;

import io.forkyard.api.ProgressListener;
import java.util.function.Consumer;

/**
 * Turns debootstrap's "I:" lines into progress steps. debootstrap does not announce how many
 * packages it will fetch, so downloading reports an unknown total; every later phase handles the
 * same packages, so the download count becomes their total.
 */
final class DebootstrapProgress implements Consumer<String> {
  static final String INDEX = "Downloading package index";
  static final String RESOLVING = "Resolving dependencies";
  static final String DOWNLOADING = "Downloading packages";
  static final String EXTRACTING = "Extracting packages";
  static final String INSTALLING = "Installing core packages";
  static final String UNPACKING = "Unpacking packages";
  static final String CONFIGURING = "Configuring packages";
  static final String INSTALLED = "Base system installed";

  private final ProgressListener listener;
  private long retrieved;
  private long extracted;
  private long unpacked;
  private long configured;

  DebootstrapProgress(ProgressListener listener) {
    this.listener = listener;
  }

  long packages() {
    return retrieved;
  }

  @Override
  public void accept(String line) {
    if (!line.startsWith("I: ")) {
      return;
    }
    String msg = line.substring(3).strip();
    if (msg.startsWith("Retrieving ")) {
      String what = msg.substring("Retrieving ".length()).strip();
      if (!what.contains(" ")) {
        listener.progress(INDEX, 0, -1);
      } else {
        listener.progress(DOWNLOADING, ++retrieved, -1);
      }
    } else if (msg.startsWith("Resolving dependencies")) {
      listener.progress(RESOLVING, 0, -1);
    } else if (msg.startsWith("Installing core packages")) {
      listener.progress(INSTALLING, 0, -1);
    } else if (msg.equals("Base system installed successfully.")) {
      listener.progress(INSTALLED, retrieved, retrieved);
    } else if (isPackageStep(msg, "Extracting ")) {
      extracted++;
      listener.progress(EXTRACTING, extracted, Math.max(retrieved, extracted));
    } else if (isPackageStep(msg, "Unpacking ")) {
      unpacked++;
      listener.progress(UNPACKING, unpacked, Math.max(retrieved, unpacked));
    } else if (isPackageStep(msg, "Configuring ")) {
      configured++;
      listener.progress(CONFIGURING, configured, Math.max(retrieved, configured));
    }
  }

  /** "Unpacking bash..." is a package; "Unpacking the base system..." is a phase header. */
  private static boolean isPackageStep(String msg, String verb) {
    if (!msg.startsWith(verb) || !msg.endsWith("...")) {
      return false;
    }
    String pkg = msg.substring(verb.length(), msg.length() - 3);
    return !pkg.isEmpty() && !pkg.contains(" ");
  }
}
