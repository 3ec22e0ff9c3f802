package io.giftkit.mq;

import io.giftkit.mq.GiftkitConsumer.BatchHandler;
import io.giftkit.mq.GiftkitConsumer.RecordHandler;
import io.giftkit.mq.GiftkitConsumer.TransactionalBatchHandler;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The public handler forms as {@link Dispatch}es: idempotency is a decorator of the user's handler
 * (claim the business keys, call the handler with the new records only, commit or release the claims),
 * not something the poll loop knows about. Stateless; the dispatches are as thread-safe as the
 * handler and the store they wrap.
 */
final class HandlerForms {

  private HandlerForms() {}

  /** One record at a time, no idempotency. */
  static <K, V> Dispatch<K, V> plain(RecordHandler<K, V> handler) {
    return records -> {
      handler.handle(records.get(0));
      return 0;
    };
  }

  /** A partition's records from one poll at once, no idempotency. */
  static <K, V> Dispatch<K, V> batch(BatchHandler<K, V> handler) {
    return records -> {
      handler.handle(records);
      return 0;
    };
  }

  /**
   * Claims the records' business keys in the store and runs the handler on the new ones, in one
   * database transaction: both commit, or both roll back.
   */
  static <K, V> Dispatch<K, V> transactional(String group, DataSource dataSource, IdempotencyStore store,
      Function<ConsumerRecord<K, V>, String> keyOf, TransactionalBatchHandler<K, V> handler) {
    return new Dispatch<>() {
      @Override
      public int handle(List<ConsumerRecord<K, V>> records) throws Exception {
        try (Connection c = dataSource.getConnection()) {
          c.setAutoCommit(false);
          return inTransaction(c, group, store, keyOf, handler, records);
        }
      }

      /** One connection for the run, auto-commit turned off once: still a transaction per record. */
      @Override
      public Run<K, V> openRun() throws Exception {
        Connection c = dataSource.getConnection();
        try {
          c.setAutoCommit(false);
        } catch (Exception | Error e) {
          c.close();
          throw e;
        }
        return new Run<>() {
          @Override
          public boolean handle(ConsumerRecord<K, V> record) throws Exception {
            return inTransaction(c, group, store, keyOf, handler, List.of(record)) == 1;
          }

          @Override
          public void close() throws Exception {
            c.close();
          }
        };
      }
    };
  }

  /** Claims, handles the new records and commits on {@code c} (auto-commit off); rolls back on failure. */
  private static <K, V> int inTransaction(Connection c, String group, IdempotencyStore store,
      Function<ConsumerRecord<K, V>, String> keyOf, TransactionalBatchHandler<K, V> handler,
      List<ConsumerRecord<K, V>> records) throws Exception {
    Map<String, ConsumerRecord<K, V>> byKey = firstByKey(records, keyOf);
    try {
      List<ConsumerRecord<K, V>> toHandle = claimed(byKey, store.claimAll(c, group, byKey.keySet()));
      if (!toHandle.isEmpty()) {
        handler.handle(toHandle, c);
      }
      c.commit();
      return records.size() - toHandle.size();
    } catch (Exception | Error e) {
      try {
        c.rollback();
      } catch (java.sql.SQLException rollbackFailed) {
        e.addSuppressed(rollbackFailed); // the connection is likely gone: nothing was committed
      }
      throw e;
    }
  }

  /**
   * Claims the records' business keys in Redis ({@code SET NX}, pipelined), runs the handler on the new
   * ones, then marks the keys done, or releases them if the handler failed.
   */
  static <K, V> Dispatch<K, V> redis(String group, RedisIdempotencyStore store,
      Function<ConsumerRecord<K, V>, String> keyOf, BatchHandler<K, V> handler) {
    return records -> {
      Map<String, ConsumerRecord<K, V>> byKey = firstByKey(records, keyOf);
      RedisIdempotencyStore.Claims claims = store.claimAll(group, byKey.keySet());
      List<ConsumerRecord<K, V>> toHandle = claimed(byKey, claims.fresh());
      try {
        if (!toHandle.isEmpty()) {
          handler.handle(toHandle);
        }
      } catch (Exception | Error e) {
        claims.release();
        throw e;
      }
      claims.complete();
      return records.size() - toHandle.size();
    };
  }

  /** Keeps, of records with the same key, the first; the rest are duplicates within the batch. */
  static <K, V> Map<String, ConsumerRecord<K, V>> firstByKey(List<ConsumerRecord<K, V>> records,
      Function<ConsumerRecord<K, V>, String> keyOf) {
    Map<String, ConsumerRecord<K, V>> byKey = new LinkedHashMap<>();
    for (ConsumerRecord<K, V> r : records) {
      String key = keyOf.apply(r);
      if (key == null || key.isEmpty()) {
        throw new IllegalArgumentException("the idempotency key of " + r.topic() + "-" + r.partition() + "@"
            + r.offset() + " is " + (key == null ? "null" : "empty"));
      }
      byKey.putIfAbsent(key, r);
    }
    return byKey;
  }

  /** The records whose key was newly claimed, in offset order. */
  static <K, V> List<ConsumerRecord<K, V>> claimed(Map<String, ConsumerRecord<K, V>> byKey, Set<String> fresh) {
    List<ConsumerRecord<K, V>> out = new ArrayList<>(fresh.size());
    for (Map.Entry<String, ConsumerRecord<K, V>> e : byKey.entrySet()) {
      if (fresh.contains(e.getKey())) {
        out.add(e.getValue());
      }
    }
    return out;
  }
}
