package io.giftkit.shard;

import io.giftkit.core.Checks;
import io.giftkit.core.GiftkitException;
import java.time.Duration;
import java.util.Locale;

/**
 * The slow-SQL breaker of a statement template on a shard is OPEN (or HALF_OPEN with every probe
 * running): the statement was not run and no connection was taken. The message names the template
 * (whitespace collapsed, never bound values), the shard, the state, the slow-call rate that opened it
 * and the cooldown left. Built by a static factory and carries no stack trace, so a storm of
 * rejections costs little. Other templates on the shard, and this template on other shards, are not
 * affected.
 */
public final class SlowSqlRejectedException extends GiftkitException {

  private static final long serialVersionUID = 1L;
  private static final int MAX_TEMPLATE_CHARS = 300;

  private final String template;
  private final int shard;
  private final SlowSqlBreakerState state;
  private final double slowCallRate;
  private final long remainingCooldownNanos;

  private SlowSqlRejectedException(String message, String template, int shard, SlowSqlBreakerState state,
      double slowCallRate, long remainingCooldownNanos) {
    super(message, null, false);
    this.template = template;
    this.shard = shard;
    this.state = state;
    this.slowCallRate = slowCallRate;
    this.remainingCooldownNanos = remainingCooldownNanos;
  }

  static SlowSqlRejectedException of(String template, int shard, SlowSqlBreakerState state, double slowCallRate,
      long remainingCooldownNanos, int probes) {
    String shown = template.length() <= MAX_TEMPLATE_CHARS ? template : template.substring(0, MAX_TEMPLATE_CHARS) + "…";
    String why = state == SlowSqlBreakerState.OPEN
        ? "OPEN (slow-call rate " + String.format(Locale.ROOT, "%.1f", slowCallRate) + "%), cooldown left "
            + Checks.describe(Duration.ofMillis(Math.max(1, (remainingCooldownNanos + 999_999) / 1_000_000)))
        : state + " with all " + probes + " probe call(s) running";
    return new SlowSqlRejectedException("slow-SQL breaker of template \"" + shown + "\" on shard " + shard + " is " + why
        + "; the statement was not run", template, shard, state, slowCallRate, remainingCooldownNanos);
  }

  /** @return the refused statement's template ({@code {table}} unfilled, whitespace collapsed) */
  public String template() {
    return template;
  }

  /** @return the shard the statement was routed to */
  public int shard() {
    return shard;
  }

  /** @return the breaker's state when it refused: OPEN, or HALF_OPEN with every probe running */
  public SlowSqlBreakerState state() {
    return state;
  }

  /** @return the slow-call rate, in percent, that opened the breaker */
  public double slowCallRate() {
    return slowCallRate;
  }

  /** @return how long until the breaker lets a probe through (zero when HALF_OPEN) */
  public Duration remainingCooldown() {
    return Duration.ofNanos(remainingCooldownNanos);
  }
}
