package io.giftkit.mq;

import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * The user's handler in its general form, as the poll loop calls it: any of the public handler forms,
 * decorated by {@link HandlerForms} (idempotency claims, transactions).
 *
 * @param <K> the key type
 * @param <V> the value type
 */
@FunctionalInterface
interface Dispatch<K, V> {

  /**
   * @param records one record, or a poll's runs of records (batch forms: every partition's, or one
   *     partition's when a whole-poll call failed); never empty
   * @return how many of them were skipped as duplicates
   * @throws Exception what the handler (or the idempotency store) threw
   */
  int handle(List<ConsumerRecord<K, V>> records) throws Exception;

  /**
   * Opens a run of one-record calls for a partition's records from one poll, sharing what the form can
   * share between them without sharing a transaction (the transactional form: one connection, still
   * one transaction per record). The default calls {@link #handle} with each record.
   *
   * @throws Exception if what the run needs cannot be had (e.g. no connection)
   */
  default Run<K, V> openRun() throws Exception {
    return record -> handle(List.of(record)) == 1;
  }

  /** One-record calls on the handler thread; closed when the run ends. */
  @FunctionalInterface
  interface Run<K, V> extends AutoCloseable {
    /**
     * @return whether the record was skipped as a duplicate
     * @throws Exception what the handler (or the idempotency store) threw; the run ends
     */
    boolean handle(ConsumerRecord<K, V> record) throws Exception;

    @Override
    default void close() throws Exception {}
  }
}
