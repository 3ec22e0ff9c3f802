package io.giftkit.demo.chaos;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The books as the databases hold them, read by SQL straight from the shards, the control database
 * and the payment database (never from the application). A table that does not exist is recorded as
 * missing, not an error.
 */
final class Books {

  record Order(long orderId, int shard, String table, long amount, String status) {}

  record Alert(String key, long orderId, String kind, String detail) {}

  /** Every order row, duplicates included (I4 counts them). */
  final List<Order> orders = new ArrayList<>();
  /** Order ids counted by SQL over UNION ALL, per server: {total, distinct}. */
  final Map<String, long[]> unionCounts = new LinkedHashMap<>();
  final Map<Long, Long> ledger = new HashMap<>();
  long ledgerSum;
  long incomeSum;
  long rankingSum;
  /** provider state per order id; empty when payment_charge is missing */
  Optional<Map<Long, Charge>> charges = Optional.empty();
  /** alert rows; empty when reconciliation_alert is missing */
  Optional<List<Alert>> alerts = Optional.empty();
  final List<String> missing = new ArrayList<>();

  record Charge(long amount, String state) {}

  private Books() {}

  static Books read(ChaosCluster cluster) throws SQLException {
    Books b = new Books();
    List<String> sharedUnion = new ArrayList<>();
    for (int s = 0; s < ChaosCluster.SHARDS; s++) {
      String db = cluster.shardDatabase(s);
      List<String> union = s == ChaosCluster.DOWN_SHARD ? new ArrayList<>() : sharedUnion;
      try (Connection c = cluster.connect(db)) {
        for (String table : monthTables(c, db)) {
          union.add("SELECT order_id FROM `" + db + "`.`" + table + "`");
          try (Statement st = c.createStatement();
              ResultSet rs = st.executeQuery("SELECT order_id, amount, status FROM `" + table + "`")) {
            while (rs.next()) {
              b.orders.add(new Order(rs.getLong(1), s, table, rs.getLong(2), rs.getString(3)));
            }
          }
        }
        if (s == ChaosCluster.DOWN_SHARD) {
          b.unionCounts.put("shard 9's server", countUnion(c, union));
        }
      }
    }
    try (Connection c = cluster.connect(cluster.controlDatabase())) {
      b.unionCounts.put("shared server (shards 0-8)", countUnion(c, sharedUnion));
      if (b.present(c, cluster.controlDatabase(), "gift_ledger")) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT order_id, amount FROM gift_ledger")) {
          while (rs.next()) {
            b.ledger.merge(rs.getLong(1), rs.getLong(2), Long::sum);
            b.ledgerSum += rs.getLong(2);
          }
        }
      }
      if (b.present(c, cluster.controlDatabase(), "streamer_income")) {
        b.incomeSum = sum(c, "SELECT COALESCE(SUM(total), 0) FROM streamer_income");
      }
      if (b.present(c, cluster.controlDatabase(), "room_ranking")) {
        b.rankingSum = sum(c, "SELECT COALESCE(SUM(total), 0) FROM room_ranking");
      }
      if (b.present(c, cluster.controlDatabase(), "reconciliation_alert")) {
        List<Alert> alerts = new ArrayList<>();
        try (Statement st = c.createStatement();
            ResultSet rs = st.executeQuery("SELECT alert_key, order_id, kind, detail FROM reconciliation_alert"
                + " WHERE resolved_at IS NULL")) { // open alerts: one whose disagreement went away is resolved
          while (rs.next()) {
            alerts.add(new Alert(rs.getString(1), rs.getLong(2), rs.getString(3), rs.getString(4)));
          }
        }
        b.alerts = Optional.of(alerts);
      }
    }
    try (Connection c = cluster.connect(cluster.paymentDatabase())) {
      if (b.present(c, cluster.paymentDatabase(), "payment_charge")) {
        Map<Long, Charge> charges = new HashMap<>();
        try (Statement st = c.createStatement();
            ResultSet rs = st.executeQuery("SELECT order_id, amount, state FROM payment_charge")) {
          while (rs.next()) {
            charges.put(rs.getLong(1), new Charge(rs.getLong(2), rs.getString(3)));
          }
        }
        b.charges = Optional.of(charges);
      }
    }
    return b;
  }

  /**
   * A cheap snapshot for the settlement wait.
   *
   * @return {ledger rows, ledger coins, PAYMENT_UNKNOWN orders, PAID orders}
   */
  static long[] progress(ChaosCluster cluster) throws SQLException {
    long unknown = 0;
    long paid = 0;
    for (int s = 0; s < ChaosCluster.SHARDS; s++) {
      String db = cluster.shardDatabase(s);
      try (Connection c = cluster.connect(db)) {
        for (String table : monthTables(c, db)) {
          unknown += sum(c, "SELECT COUNT(*) FROM `" + table + "` WHERE status = 'PAYMENT_UNKNOWN'");
          paid += sum(c, "SELECT COUNT(*) FROM `" + table + "` WHERE status = 'PAID'");
        }
      }
    }
    try (Connection c = cluster.connect(cluster.controlDatabase())) {
      long rows = sum(c, "SELECT COUNT(*) FROM gift_ledger");
      long coins = sum(c, "SELECT COALESCE(SUM(amount), 0) FROM gift_ledger");
      return new long[] {rows, coins, unknown, paid};
    }
  }

  private boolean present(Connection c, String db, String table) throws SQLException {
    boolean there = exists(c, db, table);
    if (!there) {
      missing.add(db + "." + table);
    }
    return there;
  }

  static boolean exists(Connection c, String db, String table) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?")) {
      ps.setString(1, db);
      ps.setString(2, table);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1) > 0;
      }
    }
  }

  static List<String> monthTables(Connection c, String db) throws SQLException {
    List<String> tables = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT table_name FROM information_schema.tables"
        + " WHERE table_schema = ? AND table_name LIKE 'gift\\_order\\_%' ORDER BY table_name")) {
      ps.setString(1, db);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          tables.add(rs.getString(1));
        }
      }
    }
    return tables;
  }

  private static long[] countUnion(Connection c, List<String> selects) throws SQLException {
    if (selects.isEmpty()) {
      return new long[] {0, 0};
    }
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
        "SELECT COUNT(*), COUNT(DISTINCT order_id) FROM (" + String.join(" UNION ALL ", selects) + ") o")) {
      rs.next();
      return new long[] {rs.getLong(1), rs.getLong(2)};
    }
  }

  private static long sum(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
