package io.forkyard.cli;

import io.forkyard.api.ImageInfo;
import io.forkyard.api.ImageRecipe;
import io.forkyard.api.InvalidRequestException;
import io.forkyard.api.UnsupportedByRuntimeException;
import io.forkyard.core.SandboxService;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code forkyard image ...}: the read-only root filesystems sandboxes boot from. */
@Command(
    name = "image",
    mixinStandardHelpOptions = true,
    description = "Build, list and delete images.",
    subcommands = {
      ImageCommand.Build.class,
      ImageCommand.Ls.class,
      ImageCommand.Rm.class,
      ImageCommand.PathOf.class
    })
final class ImageCommand {
  private ImageCommand() {}

  @Command(
      name = "build",
      mixinStandardHelpOptions = true,
      description = {
        "Build an image (Debian minbase + packages + files), or reuse the cached one when its",
        "recipe did not change. 'python' is the default image: bookworm + python3."
      })
  static final class Build implements Callable<Integer> {
    private final Cli cli;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--package", paramLabel = "P", description = "A Debian package (repeatable).")
    List<String> packages = new ArrayList<>();

    @Option(
        names = "--file",
        paramLabel = "HOST:SANDBOX",
        description = "Copy a host file or directory into the image (repeatable).")
    List<String> files = new ArrayList<>();

    @Option(names = "--suite", paramLabel = "SUITE", description = "Debian suite (bookworm).")
    String suite;

    Build(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      ImageInfo info;
      try (ProgressDisplay progress = ProgressDisplay.create(cli, "image " + name)) {
        info = cli.sandboxes().buildImage(recipe(), progress);
      }
      cli.out.println(info.name());
      return 0;
    }

    ImageRecipe recipe() {
      if (packages.isEmpty()
          && files.isEmpty()
          && suite == null
          && cli.sandboxes() instanceof SandboxService service) {
        // "build NAME" alone rebuilds what NAME was built from, if it is known.
        Optional<ImageRecipe> known = service.imageStore().recipe(name);
        if (known.isPresent()) {
          return known.get();
        }
      }
      LinkedHashSet<String> all = new LinkedHashSet<>();
      if (name.equals(ImageRecipe.python().name())) {
        all.addAll(ImageRecipe.python().packages());
      }
      all.addAll(packages);
      Map<String, String> copies = new LinkedHashMap<>();
      for (String f : files) {
        int colon = f.lastIndexOf(':');
        if (colon <= 0 || colon == f.length() - 1) {
          throw new InvalidRequestException(
              "--file takes HOST_PATH:SANDBOX_PATH, e.g. ./app:/opt/app; got '" + f + "'");
        }
        copies.put(f.substring(colon + 1), f.substring(0, colon));
      }
      return new ImageRecipe(name, suite, List.copyOf(all), copies);
    }
  }

  @Command(name = "ls", mixinStandardHelpOptions = true, description = "List built images.")
  static final class Ls implements Callable<Integer> {
    private final Cli cli;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    Ls(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      List<ImageInfo> images = cli.sandboxes().images();
      if (json) {
        Output.json(cli.out, images.stream().map(Output::image).toList());
        return 0;
      }
      Output.Table t = new Output.Table("NAME", "PACKAGES", "SIZE", "BUILT", "RECIPE");
      for (ImageInfo i : images) {
        t.row(
            i.name(),
            String.join(",", i.packages()),
            Output.size(i.sizeBytes()),
            Output.time(i.builtAt()),
            i.recipeHash().length() > 12 ? i.recipeHash().substring(0, 12) : i.recipeHash());
      }
      t.print(cli.out);
      return 0;
    }
  }

  @Command(
      name = "path",
      mixinStandardHelpOptions = true,
      description = "Print the host path of a built image's root filesystem (read-only).")
  static final class PathOf implements Callable<Integer> {
    private final Cli cli;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    PathOf(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      if (!(cli.sandboxes() instanceof SandboxService service)) {
        throw new UnsupportedByRuntimeException(
            "image path shows this host's files; it works only without --url");
      }
      cli.out.println(service.imageStore().rootfs(name));
      return 0;
    }
  }

  @Command(name = "rm", mixinStandardHelpOptions = true, description = "Delete images.")
  static final class Rm implements Callable<Integer> {
    private final Cli cli;

    @Parameters(arity = "1..*", paramLabel = "NAME")
    List<String> names;

    Rm(Cli cli) {
      this.cli = cli;
    }

    @Override
    public Integer call() {
      for (String n : names) {
        cli.sandboxes().deleteImage(n);
      }
      return 0;
    }
  }
}
