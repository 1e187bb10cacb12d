package io.forkyard.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SandboxLocksTest {
  @TempDir Path dir;

  @Test
  void twoInstancesOnOneDirectoryWaitForEachOtherInsteadOfFailing() throws Exception {
    SandboxLocks first = new SandboxLocks(dir);
    SandboxLocks second = new SandboxLocks(dir.resolve(".").resolve("x/.."));
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Void> holder =
        CompletableFuture.runAsync(
            () -> {
              try (var h = first.lock("sb-000000000001")) {
                held.countDown();
                release.await(10, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();

    assertThat(second.tryLock("sb-000000000001")).isEmpty();
    try (var other = second.tryLock("sb-000000000002").orElseThrow()) {
      assertThat(other).isNotNull();
    }
    CompletableFuture<Boolean> waiter =
        CompletableFuture.supplyAsync(
            () -> {
              try (var h = second.lock("sb-000000000001")) {
                return true;
              }
            });
    Thread.sleep(200);
    assertThat(waiter).isNotDone();
    release.countDown();
    assertThat(waiter.get(10, TimeUnit.SECONDS)).isTrue();
    holder.get(10, TimeUnit.SECONDS);
  }
}
