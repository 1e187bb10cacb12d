package io.forkyard.cli;

import io.forkyard.api.ProgressListener;
import java.util.Objects;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows a slow step's progress on stderr: a progress bar on a terminal, one line per step otherwise
 * (CI logs, pipes), so stdout stays clean for what scripts read.
 */
abstract class ProgressDisplay implements ProgressListener, AutoCloseable {
  static ProgressDisplay create(Cli cli, String task) {
    // The launcher knows whether stderr is a terminal; Java 21's System.console() cannot say.
    boolean tty = Boolean.parseBoolean(System.getProperty("forkyard.tty", "false"));
    return tty ? new Bar(cli, task) : new Lines(cli, task);
  }

  /** A display that appears with the first progress report, if there is one. */
  static ProgressDisplay lazy(Cli cli, String task) {
    return new ProgressDisplay() {
      private ProgressDisplay shown;

      @Override
      public synchronized void progress(String step, long done, long total) {
        if (shown == null) {
          shown = create(cli, task);
        }
        shown.progress(step, done, total);
      }

      @Override
      public synchronized void close() {
        if (shown != null) {
          shown.close();
        }
      }
    };
  }

  @Override
  public abstract void close();

  private static final class Bar extends ProgressDisplay {
    private final ProgressBar bar;
    private long total = -2;

    Bar(Cli cli, String task) {
      bar =
          new ProgressBarBuilder()
              .setTaskName(task)
              .setInitialMax(-1)
              .setStyle(ProgressBarStyle.ASCII)
              .setConsumer(new ConsoleProgressBarConsumer(cli.err))
              .setUpdateIntervalMillis(200)
              .build();
    }

    @Override
    public synchronized void progress(String step, long done, long total) {
      if (total != this.total) {
        bar.maxHint(total);
        this.total = total;
      }
      bar.stepTo(done);
      bar.setExtraMessage(step);
    }

    @Override
    public void close() {
      bar.close();
    }
  }

  private static final class Lines extends ProgressDisplay {
    private final Cli cli;
    private final String task;
    private String lastStep = "";

    Lines(Cli cli, String task) {
      this.cli = cli;
      this.task = task;
    }

    @Override
    public synchronized void progress(String step, long done, long total) {
      if (!Objects.equals(step, lastStep)) {
        lastStep = step;
        cli.err.println(task + ": " + step);
      }
    }

    @Override
    public void close() {}
  }
}
