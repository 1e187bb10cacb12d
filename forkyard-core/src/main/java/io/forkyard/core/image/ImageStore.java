package io.forkyard.core.image;

import io.forkyard.api.ErrorCode;
import io.forkyard.api.ForkyardException;
import io.forkyard.api.ImageInfo;
import io.forkyard.api.ImageRecipe;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.NotFoundException;
import io.forkyard.api.ProgressListener;
import io.forkyard.api.RuntimeUnavailableException;
import io.forkyard.core.spi.HostLock;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Built root filesystems, one per image name, under one directory:
 *
 * <pre>
 * imagesDir/
 *   .locks/NAME.lock          build/delete lock (never deleted, so waiters always share it)
 *   NAME/
 *     recipe.json             the recipe to (re)build NAME from
 *     image.json              manifest ({@link ImageInfo} + tree name); present = built
 *     build.log               output of the last build
 *     HASH12-EPOCH/           the rootfs itself, returned by {@link #rootfs}
 *     .build-XXXX/            a build in progress (or left by a crash; removed by the next build)
 * </pre>
 *
 * <p><b>Read-only contract.</b> An image tree is never modified after its manifest is written: a
 * rebuild creates a new tree next to it and swaps the manifest atomically; {@link #delete} hides
 * the manifest first. Nothing enforces immutability on the files themselves, by design: chmod-ing
 * every file would change what the sandbox sees (setuid binaries, writable /tmp), and {@code chattr
 * +i} is not available on every filesystem and would break delete for anyone without
 * CAP_LINUX_IMMUTABLE. Instead the tree is owned by root (debootstrap runs as root), so no other
 * host user can write it, and runtimes must mount it read-only with the sandbox's changes in memory
 * (gVisor {@code --overlay2=root:memory}); sandboxes never write into it. The manifest records size
 * and entry count, so a tampered tree can be noticed.
 *
 * <p>A rebuild removes the previous tree: sandboxes and snapshots made from the old tree reference
 * a path that no longer exists. Callers that persist a rootfs path should also persist {@link
 * ImageInfo#recipeHash()} and refuse a mismatch.
 *
 * <p>Thread- and process-safe: builds and deletes of one name are serialized by a file lock (plus
 * an in-JVM lock, since file locks are per process); reads take no lock and only ever see complete
 * images.
 */
public final class ImageStore {
  private static final Logger LOG = LoggerFactory.getLogger(ImageStore.class);
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,62}");
  private static final int TAIL_LINES = 15;

  static final String MANIFEST = "image.json";
  static final String RECIPE = "recipe.json";
  static final String BUILD_LOG = "build.log";
  static final String BUILD_PREFIX = ".build-";

  private final Path dir;
  private final String mirror;
  private volatile Predicate<Path> treeInUse = tree -> false;

  private ImageStore(Path dir, String mirror) {
    this.dir = dir.toAbsolutePath().normalize();
    this.mirror = mirror;
  }

  /**
   * Tells the store which root filesystems are still in use (by running sandboxes or by snapshots,
   * which restore on top of the exact tree they were taken on). A rebuild keeps such earlier trees
   * instead of deleting them, so a rebuilt image never breaks an existing snapshot; {@link
   * #pruneUnusedTrees()} removes them once nothing uses them.
   */
  public void treeInUse(Predicate<Path> inUse) {
    this.treeInUse = Objects.requireNonNull(inUse);
  }

  /** Deletes root filesystems of earlier builds that nothing uses any more. */
  public void pruneUnusedTrees() {
    for (String name : imageNames()) {
      try (HostLock l = lock(name, ProgressListener.NONE)) {
        removeLeftovers(dir.resolve(name), Optional.empty(), false);
      } catch (IOException | RuntimeException e) {
        LOG.warn("pruning old trees of image {} failed: {}", name, e.toString());
      }
    }
  }

  /**
   * A store in {@code imagesDir} (created when missing) that bootstraps from the host's Debian
   * mirror ({@code $FORKYARD_DEBIAN_MIRROR}, else the host's apt sources, else deb.debian.org).
   */
  public static ImageStore create(Path imagesDir) {
    return create(imagesDir, DebianMirror.fromHost());
  }

  /** A store in {@code imagesDir} that bootstraps from {@code mirror} (an http(s) or file URL). */
  public static ImageStore create(Path imagesDir, String mirror) {
    if (mirror == null
        || !(mirror.startsWith("http://")
            || mirror.startsWith("https://")
            || mirror.startsWith("file:/"))) {
      throw new InvalidRequestException("Debian mirror must be an http(s) or file URL: " + mirror);
    }
    try {
      Files.createDirectories(imagesDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create images directory " + imagesDir, e);
    }
    return new ImageStore(imagesDir, mirror);
  }

  public Path directory() {
    return dir;
  }

  public String mirror() {
    return mirror;
  }

  // ---- recipes

  /**
   * Remembers {@code recipe} under its name (replacing an earlier one, also the built-in {@code
   * python}), so {@link #ensure(String, ProgressListener)} builds from it. Does not build.
   */
  public void register(ImageRecipe recipe) {
    Recipes.hash(recipe); // fails now, not at build time, when a recipe file is missing
    try (HostLock l = lock(recipe.name(), ProgressListener.NONE)) {
      Path imageDir = dir.resolve(recipe.name());
      Files.createDirectories(imageDir);
      Recipes.writeAtomically(imageDir.resolve(RECIPE), recipe);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot store recipe " + recipe.name(), e);
    }
  }

  /** The recipe registered under {@code name}, else the built-in one ({@code python}). */
  public Optional<ImageRecipe> recipe(String name) {
    Path file = dir.resolve(checkName(name)).resolve(RECIPE);
    if (Files.isRegularFile(file)) {
      try {
        return Optional.of(Recipes.read(file, ImageRecipe.class));
      } catch (IOException | RuntimeException e) {
        LOG.warn("ignoring unreadable recipe {}: {}", file, e.toString());
      }
    }
    return name.equals(ImageRecipe.python().name())
        ? Optional.of(ImageRecipe.python())
        : Optional.empty();
  }

  /** Every known recipe: the registered ones and the built-in {@code python}, by name. */
  public List<ImageRecipe> recipes() {
    List<ImageRecipe> out = new ArrayList<>();
    boolean python = false;
    for (String name : imageNames()) {
      Optional<ImageRecipe> r =
          Files.isRegularFile(dir.resolve(name).resolve(RECIPE)) ? recipe(name) : Optional.empty();
      r.ifPresent(out::add);
      python |= name.equals(ImageRecipe.python().name()) && r.isPresent();
    }
    if (!python) {
      out.add(ImageRecipe.python());
      out.sort(Comparator.comparing(ImageRecipe::name));
    }
    return out;
  }

  // ---- images

  /**
   * Returns the image for {@code name}'s recipe (see {@link #recipe}), building it when missing or
   * when the recipe changed.
   *
   * @throws NotFoundException when no recipe has that name
   */
  public ImageInfo ensure(String name, ProgressListener progress) {
    ImageRecipe recipe =
        recipe(name)
            .orElseThrow(
                () ->
                    new NotFoundException(
                        "no image recipe named '"
                            + name
                            + "'; build it first with `forkyard image build "
                            + name
                            + " --package ...`"));
    return ensure(recipe, progress);
  }

  /**
   * Returns the image built from {@code recipe}, building it first when it is missing or was built
   * from a different recipe (different hash). Cheap when cached: hashes only the recipe (and the
   * files it copies in), reads one small manifest. The recipe is remembered under its name once
   * built. Blocks while another thread or process builds the same name.
   *
   * @throws RuntimeUnavailableException when a build is needed but debootstrap is missing or this
   *     process is not root
   */
  public ImageInfo ensure(ImageRecipe recipe, ProgressListener progress) {
    String hash = Recipes.hash(recipe);
    Optional<ImageInfo> cached = current(recipe.name(), hash);
    if (cached.isPresent()) {
      return cached.get();
    }
    try (HostLock l = lock(recipe.name(), progress)) {
      cached = current(recipe.name(), hash);
      if (cached.isPresent()) {
        return cached.get(); // another process built it while we waited
      }
      return build(recipe, hash, progress);
    }
  }

  public Optional<ImageInfo> find(String name) {
    return manifest(checkName(name)).map(ImageManifest::info);
  }

  /** Built images, by name. Recipes not built yet are not listed (see {@link #recipes}). */
  public List<ImageInfo> list() {
    List<ImageInfo> out = new ArrayList<>();
    for (String name : imageNames()) {
      manifest(name).map(ImageManifest::info).ifPresent(out::add);
    }
    return out;
  }

  /**
   * The built image's root filesystem. Read-only by contract (see the class comment).
   *
   * @throws NotFoundException when {@code name} is not built
   */
  public Path rootfs(String name) {
    ImageManifest m =
        manifest(checkName(name))
            .orElseThrow(
                () ->
                    new NotFoundException(
                        "image '"
                            + name
                            + "' is not built; run `forkyard image build "
                            + name
                            + "`"));
    return dir.resolve(name).resolve(m.tree());
  }

  /**
   * Removes the image and its recipe. Sandboxes still running from it must be gone first: their
   * root filesystem disappears.
   *
   * @throws NotFoundException when there is neither an image nor a recipe of that name
   */
  public void delete(String name) {
    Path imageDir = dir.resolve(checkName(name));
    if (!Files.isDirectory(imageDir)) {
      throw new NotFoundException("no image named '" + name + "'; `forkyard image ls` lists them");
    }
    try (HostLock l = lock(name, ProgressListener.NONE)) {
      Files.deleteIfExists(imageDir.resolve(MANIFEST)); // invisible from here on
      Trees.deleteTree(imageDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete image " + name, e);
    }
  }

  // ---- internals

  private Optional<ImageInfo> current(String name, String hash) {
    return manifest(name)
        .filter(m -> m.recipeHash().equals(hash) && m.format() == Recipes.BUILD_FORMAT)
        .filter(
            m -> Files.isDirectory(dir.resolve(name).resolve(m.tree()), LinkOption.NOFOLLOW_LINKS))
        .map(ImageManifest::info);
  }

  Optional<ImageManifest> manifest(String name) {
    Path file = dir.resolve(name).resolve(MANIFEST);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      return Optional.of(Recipes.read(file, ImageManifest.class));
    } catch (IOException | RuntimeException e) {
      LOG.warn("ignoring unreadable image manifest {}: {}", file, e.toString());
      return Optional.empty();
    }
  }

  private List<String> imageNames() {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
          .map(p -> p.getFileName().toString())
          .filter(n -> NAME.matcher(n).matches())
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }

  static String checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new InvalidRequestException(
          "image name must be 1-63 of [a-z0-9_.-] starting with a letter or digit, got '"
              + name
              + "'");
    }
    return name;
  }

  private ImageInfo build(ImageRecipe recipe, String hash, ProgressListener progress) {
    Path debootstrap = checkBuildTools();
    String name = recipe.name();
    Path imageDir = dir.resolve(name);
    Path tmp = imageDir.resolve(BUILD_PREFIX + UUID.randomUUID().toString().substring(0, 8));
    Path log = imageDir.resolve(BUILD_LOG);
    Instant start = Instant.now();
    try {
      Files.createDirectories(imageDir);
      removeLeftovers(imageDir, Optional.empty(), true);
      runDebootstrap(debootstrap, recipe, tmp, log, progress);
      copyFiles(recipe, tmp, progress);
      progress.progress("Preparing image for sandboxes", 0, -1);
      SandboxFixes.apply(tmp);
      progress.progress("Measuring image", 0, -1);
      Trees.Usage usage = Trees.usage(tmp);
      Instant builtAt = Instant.now().truncatedTo(ChronoUnit.MILLIS);
      String tree = hash.substring(0, 12) + "-" + builtAt.getEpochSecond();
      Optional<ImageManifest> old = manifest(name);
      Files.move(tmp, imageDir.resolve(tree), StandardCopyOption.ATOMIC_MOVE);
      ImageManifest m =
          new ImageManifest(
              Recipes.BUILD_FORMAT,
              name,
              hash,
              recipe,
              tree,
              usage.bytes(),
              usage.entries(),
              builtAt,
              mirror,
              Duration.between(start, Instant.now()).toMillis());
      Recipes.writeAtomically(imageDir.resolve(MANIFEST), m);
      Recipes.writeAtomically(imageDir.resolve(RECIPE), recipe);
      removeLeftovers(imageDir, Optional.of(tree), false);
      old.ifPresent(
          o ->
              LOG.info(
                  "image {} rebuilt; earlier tree {} {}",
                  name,
                  o.tree(),
                  Files.exists(imageDir.resolve(o.tree()))
                      ? "kept while sandboxes or snapshots use it"
                      : "removed"));
      progress.progress("Image " + name + " ready", 1, 1);
      return m.info();
    } catch (IOException e) {
      throw new ForkyardException(
          ErrorCode.INTERNAL, "building image '" + name + "' failed: " + e.getMessage(), e);
    } finally {
      if (Files.exists(tmp, LinkOption.NOFOLLOW_LINKS)) {
        Trees.deleteTree(tmp);
      }
    }
  }

  private static Path checkBuildTools() {
    Path debootstrap =
        HostTools.find("debootstrap")
            .orElseThrow(
                () ->
                    new RuntimeUnavailableException(
                        "building images needs debootstrap, which is not installed:"
                            + " run `apt-get install debootstrap`"));
    if (!HostTools.isRoot()) {
      throw new RuntimeUnavailableException(
          "building images needs root (debootstrap creates device nodes and chroots):"
              + " run forkyard as root, or build the image once as root");
    }
    return debootstrap;
  }

  private void runDebootstrap(
      Path debootstrap, ImageRecipe recipe, Path target, Path log, ProgressListener progress)
      throws IOException {
    List<String> cmd = new ArrayList<>(List.of(debootstrap.toString(), "--variant=minbase"));
    if (!recipe.packages().isEmpty()) {
      cmd.add("--include=" + String.join(",", recipe.packages()));
    }
    cmd.addAll(List.of(recipe.suite(), target.toString(), mirror));
    progress.progress("Starting debootstrap (" + recipe.suite() + ")", 0, -1);
    DebootstrapProgress parser = new DebootstrapProgress(progress);
    HostTools.Outcome outcome;
    try (BufferedWriter w = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
      w.write("$ " + String.join(" ", cmd) + "\n");
      outcome =
          HostTools.run(
              cmd,
              Map.of(),
              TAIL_LINES,
              line -> {
                parser.accept(line);
                try {
                  w.write(line);
                  w.write('\n');
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
      if (outcome.exitCode() != 0) {
        String detail = "";
        Path dlog = target.resolve("debootstrap/debootstrap.log");
        if (Files.isRegularFile(dlog)) {
          List<String> lines = Files.readAllLines(dlog, StandardCharsets.UTF_8);
          w.write("\n--- " + dlog + "\n");
          for (String l : lines) {
            w.write(l);
            w.write('\n');
          }
          boolean saidWhy = outcome.tail().stream().anyMatch(l -> l.startsWith("E: "));
          detail =
              saidWhy
                  ? ""
                  : "\ndebootstrap.log ends with:\n"
                      + String.join(
                          "\n", lines.subList(Math.max(0, lines.size() - 10), lines.size()));
        }
        String msg =
            "building image '"
                + recipe.name()
                + "' failed: debootstrap exited with code "
                + outcome.exitCode()
                + ". Last output:\n"
                + outcome.tailText()
                + detail
                + "\nFull log: "
                + log;
        if (outcome.tailText().contains("Couldn't find these debs")) {
          throw new InvalidRequestException(msg); // a package name in the recipe does not exist
        }
        throw new ForkyardException(ErrorCode.INTERNAL, msg);
      }
    }
  }

  private static void copyFiles(ImageRecipe recipe, Path rootfs, ProgressListener progress)
      throws IOException {
    int total = recipe.files().size();
    int done = 0;
    for (Map.Entry<String, String> f : recipe.files().entrySet()) {
      progress.progress("Copying files", done++, total);
      copyInto(rootfs, f.getKey(), Path.of(f.getValue()));
    }
    if (total > 0) {
      progress.progress("Copying files", total, total);
    }
  }

  /** Copies a host file or tree to a sandbox path; copies are owned by root, modes kept. */
  static void copyInto(Path rootfs, String target, Path host) throws IOException {
    if (Files.isDirectory(host, LinkOption.NOFOLLOW_LINKS)) {
      List<Path> entries;
      try (Stream<Path> s = Files.walk(host)) {
        entries = s.sorted().toList();
      }
      for (Path p : entries) {
        String rel = host.relativize(p).toString();
        String t = rel.isEmpty() ? target : target.replaceAll("/+$", "") + "/" + rel;
        Path dest = RootfsPaths.forWrite(rootfs, t);
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          if (!Files.isDirectory(dest, LinkOption.NOFOLLOW_LINKS)) {
            Files.deleteIfExists(dest);
            Files.createDirectory(dest);
          }
          Files.setPosixFilePermissions(dest, Files.getPosixFilePermissions(p));
        } else {
          copyEntry(p, dest);
        }
      }
    } else {
      copyEntry(host, RootfsPaths.forWrite(rootfs, target));
    }
  }

  private static void copyEntry(Path src, Path dest) throws IOException {
    if (Files.isDirectory(dest, LinkOption.NOFOLLOW_LINKS)) {
      throw new InvalidRequestException("cannot copy " + src + " over the directory " + dest);
    }
    Files.deleteIfExists(dest); // replaces a symlink instead of writing through it
    if (Files.isSymbolicLink(src)) {
      Files.createSymbolicLink(dest, Files.readSymbolicLink(src));
    } else {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(src);
      Files.copy(src, dest);
      Files.setPosixFilePermissions(dest, perms);
    }
  }

  /** Removes crashed builds and trees no manifest points to. Only called with the lock held. */
  private void removeLeftovers(Path imageDir, Optional<String> keep, boolean buildsOnly)
      throws IOException {
    Optional<String> current = keep.isPresent() ? keep : readTree(imageDir.resolve(MANIFEST));
    if (current.isEmpty() && !buildsOnly) {
      return; // no manifest: cannot tell the current tree from old ones, keep everything
    }
    List<Path> remove;
    try (Stream<Path> s = Files.list(imageDir)) {
      remove =
          s.filter(p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
              .filter(
                  p -> {
                    String n = p.getFileName().toString();
                    if (n.startsWith(BUILD_PREFIX)) {
                      return true;
                    }
                    return !buildsOnly
                        && !current.map(n::equals).orElse(false)
                        && !treeInUse.test(p.toAbsolutePath().normalize());
                  })
              .toList();
    }
    for (Path p : remove) {
      Trees.deleteTree(p);
    }
  }

  private static Optional<String> readTree(Path manifest) {
    try {
      return Files.isRegularFile(manifest)
          ? Optional.of(Recipes.read(manifest, ImageManifest.class).tree())
          : Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Serializes builds and deletes of one name across threads and processes. */
  HostLock lock(String name, ProgressListener progress) {
    return HostLock.acquire(
        dir.resolve(".locks").resolve(name + ".lock"),
        () -> progress.progress("Waiting for another build of image " + name, 0, -1));
  }
}
