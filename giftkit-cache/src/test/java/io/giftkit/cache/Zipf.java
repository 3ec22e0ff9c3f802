package io.giftkit.cache;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Zipf-distributed ranks 1..n with exponent s, by inverse CDF; deterministic for a seed. */
final class Zipf {
  private final double[] cdf;
  private final SplittableRandom random;

  Zipf(int n, double s, long seed) {
    cdf = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += 1.0 / Math.pow(i + 1, s);
      cdf[i] = sum;
    }
    for (int i = 0; i < n; i++) {
      cdf[i] /= sum;
    }
    random = new SplittableRandom(seed);
  }

  long next() {
    int i = Arrays.binarySearch(cdf, random.nextDouble());
    return (i >= 0 ? i : -i - 1) + 1L;
  }
}
