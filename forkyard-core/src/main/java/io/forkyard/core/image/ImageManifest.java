package io.forkyard.core.image;

import io.forkyard.api.ImageInfo;
import io.forkyard.api.ImageRecipe;
import java.time.Instant;

/**
 * {@code <imagesDir>/<name>/image.json}: the small file that makes a built image exist. Written
 * last, atomically, after the tree is complete, so a present manifest always names a complete tree;
 * the fast path of {@link ImageStore#ensure} reads only this.
 *
 * @param format {@link Recipes#BUILD_FORMAT} at build time
 * @param tree directory name of the rootfs inside the image directory
 * @param mirror the Debian mirror it was bootstrapped from
 * @param buildMillis how long the build took
 */
record ImageManifest(
    int format,
    String name,
    String recipeHash,
    ImageRecipe recipe,
    String tree,
    long sizeBytes,
    long fileCount,
    Instant builtAt,
    String mirror,
    long buildMillis) {

  ImageInfo info() {
    return new ImageInfo(name, recipeHash, recipe.packages(), sizeBytes, builtAt);
  }
}
