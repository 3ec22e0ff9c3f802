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
   * @param records one record, or a partition's run of records from one poll (batch forms); never empty
   * @return how many of them were skipped as duplicates
   * @throws Exception what the handler (or the idempotency store) threw
   */
  int handle(List<ConsumerRecord<K, V>> records) throws Exception;
}
