package io.giftkit.mq.outbox;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * The {@code headers} column's encoding: a version byte, the header count, then per header the
 * name's UTF-8 length and bytes and the value's length ({@code -1} for null) and bytes. Stateless.
 */
final class OutboxHeaders {

  private static final int VERSION = 1;

  private OutboxHeaders() {}

  /** @return the encoded headers, or null for none */
  static byte[] encode(Map<String, byte[]> headers) {
    if (headers == null || headers.isEmpty()) {
      return null;
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeInt(headers.size());
      for (Map.Entry<String, byte[]> e : headers.entrySet()) {
        byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
        out.writeInt(name.length);
        out.write(name);
        byte[] value = e.getValue();
        out.writeInt(value == null ? -1 : value.length);
        if (value != null) {
          out.write(value);
        }
      }
    } catch (IOException impossible) { // a ByteArrayOutputStream does not throw
      throw new IllegalStateException(impossible);
    }
    return bytes.toByteArray();
  }

  /**
   * @return the Kafka headers, empty for null
   * @throws IllegalArgumentException if the bytes are not this encoding (a row written by something else)
   */
  static Header[] decode(byte[] encoded) {
    if (encoded == null || encoded.length == 0) {
      return new Header[0];
    }
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(encoded))) {
      int version = in.readUnsignedByte();
      if (version != VERSION) {
        throw new IllegalArgumentException("unknown outbox header encoding version " + version);
      }
      int count = in.readInt();
      if (count < 0 || count > encoded.length) {
        throw new IllegalArgumentException("corrupt outbox headers: count " + count);
      }
      Header[] headers = new Header[count];
      for (int i = 0; i < count; i++) {
        byte[] name = in.readNBytes(checkedLength(in.readInt(), encoded.length));
        int valueLength = in.readInt();
        byte[] value = valueLength == -1 ? null : in.readNBytes(checkedLength(valueLength, encoded.length));
        headers[i] = new RecordHeader(new String(name, StandardCharsets.UTF_8), value);
      }
      return headers;
    } catch (IOException e) {
      throw new IllegalArgumentException("corrupt outbox headers: " + e, e);
    }
  }

  private static int checkedLength(int length, int max) {
    if (length < 0 || length > max) {
      throw new IllegalArgumentException("corrupt outbox headers: length " + length);
    }
    return length;
  }
}
