package io.giftkit.shard;

import io.giftkit.core.Listeners;
import io.giftkit.core.Ticker;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The slow-SQL breakers of one {@link ShardedJdbc}: one {@link TemplateBreaker} per (statement
 * template, shard), made on the template's first call on the shard. Keyed by the SQL string as
 * passed (its hash is cached by {@link String}, so a lookup of a constant template allocates
 * nothing); at most {@code maxTemplates} templates are tracked, and a further one runs unguarded,
 * counted and logged once. Transitions are logged (WARN when a breaker opens, INFO otherwise) and
 * fired to the listeners, guarded. Thread-safe.
 */
final class SlowSqlBreakers {

  /** The permit of a call no breaker guards (an untracked template). */
  static final long UNGUARDED = -1;

  private static final Logger LOG = LoggerFactory.getLogger(SlowSqlBreakers.class);

  private final SlowSqlBreakerConfig config;
  private final int shards;
  private final Ticker ticker;
  private final Listeners<SlowSqlBreakerListener> listeners;
  private final ConcurrentHashMap<String, Template> templates = new ConcurrentHashMap<>();
  private final AtomicInteger tracked = new AtomicInteger();
  private final LongAdder untracked = new LongAdder();
  private final LongAdder rejections = new LongAdder();
  private final LongAdder trips = new LongAdder();
  private volatile boolean fullLogged;
  private final TemplateBreaker.Transitions transitions = this::changed;

  SlowSqlBreakers(SlowSqlBreakerConfig config, int shards, Ticker ticker, Listeners<SlowSqlBreakerListener> listeners) {
    this.config = config;
    this.shards = shards;
    this.ticker = ticker;
    this.listeners = listeners;
  }

  SlowSqlBreakerConfig config() {
    return config;
  }

  /**
   * @return a permit for {@link #record}, {@link #UNGUARDED} if the template is not tracked
   * @throws SlowSqlRejectedException if the template's breaker on the shard refuses the call
   */
  long acquire(String sql, int shard, long slowNanos) {
    TemplateBreaker b = breaker(sql, shard);
    if (b == null) {
      return UNGUARDED;
    }
    try {
      return b.acquire(slowNanos);
    } catch (SlowSqlRejectedException e) {
      rejections.increment();
      throw e;
    }
  }

  void record(String sql, int shard, long permit, boolean slow) {
    if (permit == UNGUARDED) {
      return;
    }
    Template t = templates.get(sql);
    TemplateBreaker b = t == null ? null : t.shards.get(shard);
    if (b != null) {
      b.record(permit, slow);
    }
  }

  private TemplateBreaker breaker(String sql, int shard) {
    Template t = templates.get(sql);
    if (t == null) {
      t = track(sql);
      if (t == null) {
        return null;
      }
    }
    TemplateBreaker b = t.shards.get(shard);
    if (b == null) {
      TemplateBreaker made = new TemplateBreaker(t.fingerprint, shard, config, ticker, transitions);
      b = t.shards.compareAndSet(shard, null, made) ? made : t.shards.get(shard);
    }
    return b;
  }

  private Template track(String sql) {
    if (tracked.incrementAndGet() > config.maxTemplates()) {
      tracked.decrementAndGet();
      Template raced = templates.get(sql);
      if (raced != null) {
        return raced;
      }
      untracked.increment();
      if (!fullLogged) {
        fullLogged = true;
        LOG.warn("GiftKit slow-SQL breaker: {} templates are tracked (maxTemplates); further templates run unguarded,"
            + " e.g. {} — are values concatenated into SQL instead of bound?", config.maxTemplates(), fingerprint(sql));
      }
      return null;
    }
    Template made = new Template(fingerprint(sql), new AtomicReferenceArray<>(shards));
    Template prior = templates.putIfAbsent(sql, made);
    if (prior != null) {
      tracked.decrementAndGet(); // another thread tracked it first
      return prior;
    }
    return made;
  }

  private void changed(TemplateBreaker b, SlowSqlBreakerState from, SlowSqlBreakerState to, double rate,
      long generation) {
    if (to == SlowSqlBreakerState.OPEN) {
      trips.increment();
      LOG.warn("GiftKit slow-SQL breaker OPEN for template on shard {} (from {}, slow-call rate {}%): its calls fail"
          + " fast for {}; other templates and shards keep running: {}", b.shard(), from,
          String.format(Locale.ROOT, "%.1f", rate), io.giftkit.core.Checks.describe(config.openDuration()), b.template());
    } else {
      LOG.info("GiftKit slow-SQL breaker {} -> {} for template on shard {}: {}", from, to, b.shard(), b.template());
    }
    listeners.fire(l -> l.onStateChange(b.template(), b.shard(), from, to, rate));
  }

  /**
   * @param template a template as the snapshots show it (whitespace collapsed), or as passed
   * @return how many of its breakers were OPEN or HALF_OPEN and are now CLOSED
   */
  int forceClose(String template) {
    String wanted = fingerprint(template);
    int closed = 0;
    for (Template t : templates.values()) {
      if (t.fingerprint.equals(wanted)) {
        for (int s = 0; s < t.shards.length(); s++) {
          TemplateBreaker b = t.shards.get(s);
          if (b != null && b.forceClose()) {
            closed++;
          }
        }
      }
    }
    return closed;
  }

  /** @return every breaker not CLOSED now */
  List<SlowSqlBreakerSnapshot> notClosed() {
    List<SlowSqlBreakerSnapshot> out = new ArrayList<>();
    for (Template t : templates.values()) {
      for (int s = 0; s < t.shards.length(); s++) {
        TemplateBreaker b = t.shards.get(s);
        if (b != null && b.state() != SlowSqlBreakerState.CLOSED) {
          out.add(b.snapshot());
        }
      }
    }
    return out;
  }

  /** @return the breakers of a shard not CLOSED now */
  int notClosed(int shard) {
    int n = 0;
    for (Template t : templates.values()) {
      TemplateBreaker b = t.shards.get(shard);
      if (b != null && b.state() != SlowSqlBreakerState.CLOSED) {
        n++;
      }
    }
    return n;
  }

  long rejections() {
    return rejections.sum();
  }

  long trips() {
    return trips.sum();
  }

  long untracked() {
    return untracked.sum();
  }

  int trackedTemplates() {
    return tracked.get();
  }

  static String fingerprint(String sql) {
    return sql.replaceAll("\\s+", " ").trim();
  }

  /** A tracked template: its fingerprint, made once, and its breakers, one per shard it ran on. */
  private record Template(String fingerprint, AtomicReferenceArray<TemplateBreaker> shards) {}
}
