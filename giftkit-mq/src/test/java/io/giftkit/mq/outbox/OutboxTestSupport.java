package io.giftkit.mq.outbox;

import io.giftkit.testing.KafkaBroker;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Helpers shared by the outbox tests. */
final class OutboxTestSupport {

  private OutboxTestSupport() {}

  /** Reads every record of a topic from the start until {@code done} holds, or 60 s passed. */
  static List<ConsumerRecord<byte[], byte[]>> readUntil(KafkaBroker kafka, String topic,
      java.util.function.Predicate<List<ConsumerRecord<byte[], byte[]>>> done) {
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c = consumer(kafka)) {
      c.subscribe(List.of(topic));
      long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (!done.test(out) && System.nanoTime() - until < 0) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }

  /** Reads a topic until no record arrived for {@code quiet} after {@code atLeast} records. */
  static List<ConsumerRecord<byte[], byte[]>> readAll(KafkaBroker kafka, String topic, int atLeast, Duration quiet) {
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c = consumer(kafka)) {
      c.subscribe(List.of(topic));
      long until = System.nanoTime() + Duration.ofSeconds(90).toNanos();
      long lastArrival = System.nanoTime();
      while (System.nanoTime() - until < 0) {
        int before = out.size();
        c.poll(Duration.ofMillis(200)).forEach(out::add);
        if (out.size() > before) {
          lastArrival = System.nanoTime();
        } else if (out.size() >= atLeast && System.nanoTime() - lastArrival > quiet.toNanos()) {
          break;
        }
      }
    }
    return out;
  }

  private static KafkaConsumer<byte[], byte[]> consumer(KafkaBroker kafka) {
    return new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ConsumerConfig.GROUP_ID_CONFIG, "outbox-test-" + UUID.randomUUID(),
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class));
  }

  /** @return a loopback port nobody listens on (bound, then released) */
  static int closedPort() {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A plain data source over {@link DriverManager}: no pool, so a dead server fails every call. */
  static DataSource driverManager(String url, String user, String password) {
    return new DataSource() {
      @Override
      public Connection getConnection() throws SQLException {
        return DriverManager.getConnection(url, user, password);
      }

      @Override
      public Connection getConnection(String u, String p) throws SQLException {
        return DriverManager.getConnection(url, u, p);
      }

      @Override
      public PrintWriter getLogWriter() {
        return null;
      }

      @Override
      public void setLogWriter(PrintWriter out) {}

      @Override
      public void setLoginTimeout(int seconds) {}

      @Override
      public int getLoginTimeout() {
        return 0;
      }

      @Override
      public Logger getParentLogger() {
        return Logger.getGlobal();
      }

      @Override
      public <T> T unwrap(Class<T> iface) throws SQLException {
        throw new SQLException("not a wrapper");
      }

      @Override
      public boolean isWrapperFor(Class<?> iface) {
        return false;
      }
    };
  }

  /**
   * The real data source, with the text of every statement its connections prepare added to {@code
   * sql}: what the relay asks of the database, counted on a real server.
   */
  static DataSource recording(DataSource real, java.util.Queue<String> sql) {
    return (DataSource) java.lang.reflect.Proxy.newProxyInstance(OutboxTestSupport.class.getClassLoader(),
        new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
          Object result = invokeUnwrapped(method, real, args);
          if (!(result instanceof Connection c)) {
            return result;
          }
          return java.lang.reflect.Proxy.newProxyInstance(OutboxTestSupport.class.getClassLoader(),
              new Class<?>[] {Connection.class}, (p, m, a) -> {
                if (m.getName().equals("prepareStatement") || m.getName().equals("createStatement")) {
                  sql.add(m.getName().equals("prepareStatement") ? (String) a[0] : "<statement>");
                }
                return invokeUnwrapped(m, c, a);
              });
        });
  }

  private static Object invokeUnwrapped(java.lang.reflect.Method m, Object target, Object[] args) throws Throwable {
    try {
      return m.invoke(target, args);
    } catch (java.lang.reflect.InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
