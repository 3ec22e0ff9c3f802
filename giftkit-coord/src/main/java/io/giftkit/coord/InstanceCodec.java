package io.giftkit.coord;

import io.giftkit.core.Site;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a {@link ServiceInstance} as an etcd key and value, and reads it back. The key is
 * {@code <prefix>/services/<service>/<site>/<instanceId>} (none of the three contains a {@code '/'}); the
 * value is lines of {@code name=value}: a format line {@code v=1}, {@code address=…}, then one
 * {@code meta.<key>=<value>} per metadata entry, sorted. In names and values, {@code '%'}, {@code '='},
 * CR and LF are written as {@code %25}, {@code %3D}, {@code %0D}, {@code %0A}. No JSON library: library
 * modules do not depend on one.
 */
final class InstanceCodec {

  private InstanceCodec() {}

  /** @return the key prefix of a service's instances, ending with {@code '/'} */
  static String servicePrefix(String keyPrefix, String service) {
    return keyPrefix + "/services/" + service + "/";
  }

  static String key(String keyPrefix, ServiceInstance i) {
    return servicePrefix(keyPrefix, i.service()) + i.site().name() + "/" + i.instanceId();
  }

  static String value(ServiceInstance i) {
    StringBuilder b = new StringBuilder("v=1\naddress=").append(escape(i.address()));
    for (Map.Entry<String, String> e : new TreeMap<>(i.metadata()).entrySet()) {
      b.append("\nmeta.").append(escape(e.getKey())).append('=').append(escape(e.getValue()));
    }
    return b.toString();
  }

  /**
   * @param relativeKey {@code <site>/<instanceId>}, below the service's prefix
   * @throws IllegalArgumentException if the key or the value is not in this format
   */
  static ServiceInstance decode(String service, String relativeKey, String value) {
    int slash = relativeKey.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("key '" + relativeKey + "' is not <site>/<instanceId>");
    }
    String address = null;
    Map<String, String> metadata = new LinkedHashMap<>();
    boolean versioned = false;
    for (String line : value.split("\n", -1)) {
      int eq = line.indexOf('=');
      if (eq < 0) {
        throw new IllegalArgumentException("line '" + line + "' has no '='");
      }
      String name = unescape(line.substring(0, eq));
      String v = unescape(line.substring(eq + 1));
      if (name.equals("v")) {
        versioned = v.equals("1");
      } else if (name.equals("address")) {
        address = v;
      } else if (name.startsWith("meta.")) {
        metadata.put(name.substring("meta.".length()), v);
      }
    }
    if (!versioned || address == null) {
      throw new IllegalArgumentException("value is not a v=1 instance with an address: '" + value + "'");
    }
    try {
      return new ServiceInstance(service, Site.of(relativeKey.substring(0, slash)), relativeKey.substring(slash + 1),
          address, metadata);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  static String escape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '%' -> b.append("%25");
        case '=' -> b.append("%3D");
        case '\r' -> b.append("%0D");
        case '\n' -> b.append("%0A");
        default -> b.append(c);
      }
    }
    return b.toString();
  }

  static String unescape(String s) {
    if (s.indexOf('%') < 0) {
      return s;
    }
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 2 >= s.length()) {
          throw new IllegalArgumentException("'" + s + "' ends in an incomplete escape");
        }
        b.append((char) Integer.parseInt(s.substring(i + 1, i + 3), 16));
        i += 2;
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}
