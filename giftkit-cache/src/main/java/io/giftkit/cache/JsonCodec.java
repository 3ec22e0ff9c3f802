package io.giftkit.cache;

import io.giftkit.core.Checks;
import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * JSON for cache values with no JSON library: records (by component name, nested records included),
 * {@code Map<String, ?>}, {@code List<?>}, arrays, strings, numbers, booleans, enums (by name),
 * {@link Instant} (ISO-8601 text) and null. Obtain it with {@link ValueCodec#json(Class)}; the
 * untyped form ({@code Object.class}) decodes to {@code Map}, {@code List}, {@code String},
 * {@code Long} (or {@code BigInteger} when larger), {@code BigDecimal} (numbers with a fraction or
 * exponent: no digits lost), {@code Boolean} and null.
 *
 * <p>Decoding is strict (RFC 8259): trailing garbage, unknown escapes, leading zeros, a missing
 * record component of a primitive type, or a number that does not fit its field fail with an
 * {@link IllegalArgumentException} naming the position or the field; the cache then treats the
 * entry as a miss. Unknown object members are ignored (a newer writer may add fields). For a
 * library-grade mapping (polymorphism, custom formats), pass Jackson's through
 * {@link ValueCodec#of}.
 *
 * <p>Thread-safe; record metadata is cached per class.
 *
 * @param <V> the value type
 */
final class JsonCodec<V> implements ValueCodec<V> {

  private static final Map<Class<?>, RecordInfo> RECORDS = new ConcurrentHashMap<>();
  private static final int MAX_DEPTH = 256;

  private final Class<V> type;

  JsonCodec(Class<V> type) {
    this.type = Checks.requireNonNull("type", type);
  }

  @Override
  public byte[] encode(V value) {
    StringBuilder sb = new StringBuilder(64);
    write(sb, value, 0);
    return sb.toString().getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public V decode(byte[] bytes) {
    Parser p = new Parser(new String(bytes, StandardCharsets.UTF_8));
    Object tree = p.value(0);
    p.end();
    return type.cast(convert(tree, type, "$"));
  }

  // ---- writing ----

  private static void write(StringBuilder sb, Object v, int depth) {
    if (depth > MAX_DEPTH) {
      throw new IllegalArgumentException("JSON: value nested deeper than " + MAX_DEPTH + " levels (a cycle?)");
    }
    if (v == null) {
      sb.append("null");
    } else if (v instanceof String s) {
      string(sb, s);
    } else if (v instanceof Boolean) {
      sb.append(v);
    } else if (v instanceof Double d) {
      finite(d);
      sb.append(d % 1 == 0 && Math.abs(d) < 1e15 ? Long.toString(d.longValue()) + ".0" : d.toString());
    } else if (v instanceof Float f) {
      finite(f);
      sb.append(f);
    } else if (v instanceof Number n) {
      sb.append(n instanceof BigDecimal bd ? bd.toPlainString() : n.toString());
    } else if (v instanceof Enum<?> e) {
      string(sb, e.name());
    } else if (v instanceof Instant i) {
      string(sb, i.toString());
    } else if (v instanceof Character c) {
      string(sb, c.toString());
    } else if (v instanceof Map<?, ?> m) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!(e.getKey() instanceof String k)) {
          throw new IllegalArgumentException("JSON: map keys must be strings, but one was " + e.getKey());
        }
        sb.append(first ? "" : ",");
        first = false;
        string(sb, k);
        sb.append(':');
        write(sb, e.getValue(), depth + 1);
      }
      sb.append('}');
    } else if (v instanceof Collection<?> c) {
      sb.append('[');
      boolean first = true;
      for (Object o : c) {
        sb.append(first ? "" : ",");
        first = false;
        write(sb, o, depth + 1);
      }
      sb.append(']');
    } else if (v.getClass().isArray()) {
      sb.append('[');
      for (int i = 0, n = Array.getLength(v); i < n; i++) {
        sb.append(i == 0 ? "" : ",");
        write(sb, Array.get(v, i), depth + 1);
      }
      sb.append(']');
    } else if (v instanceof Record) {
      RecordInfo info = record(v.getClass());
      sb.append('{');
      for (int i = 0; i < info.components.length; i++) {
        sb.append(i == 0 ? "" : ",");
        string(sb, info.components[i].getName());
        sb.append(':');
        try {
          write(sb, info.components[i].getAccessor().invoke(v), depth + 1);
        } catch (IllegalAccessException | InvocationTargetException e) {
          throw new IllegalArgumentException("JSON: cannot read " + v.getClass().getName() + "."
              + info.components[i].getName() + ": " + e, e);
        }
      }
      sb.append('}');
    } else {
      throw new IllegalArgumentException("JSON: cannot write a " + v.getClass().getName()
          + " (records, maps, collections, arrays, strings, numbers, booleans, enums and Instants only)");
    }
  }

  private static void finite(double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      throw new IllegalArgumentException("JSON has no " + d);
    }
  }

  private static void string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }

  // ---- reading: text to tree ----

  private static final class Parser {
    private final String s;
    private int i;

    Parser(String s) {
      this.s = s;
    }

    Object value(int depth) {
      if (depth > MAX_DEPTH) {
        throw fail("nested deeper than " + MAX_DEPTH + " levels");
      }
      skip();
      if (i >= s.length()) {
        throw fail("unexpected end");
      }
      char c = s.charAt(i);
      switch (c) {
        case '{':
          return object(depth);
        case '[':
          return array(depth);
        case '"':
          return string();
        case 't':
          return literal("true", Boolean.TRUE);
        case 'f':
          return literal("false", Boolean.FALSE);
        case 'n':
          return literal("null", null);
        default:
          if (c == '-' || (c >= '0' && c <= '9')) {
            return number();
          }
          throw fail("unexpected '" + c + "'");
      }
    }

    private Map<String, Object> object(int depth) {
      Map<String, Object> m = new LinkedHashMap<>();
      i++;
      skip();
      if (peek() == '}') {
        i++;
        return m;
      }
      while (true) {
        skip();
        if (peek() != '"') {
          throw fail("expected a member name");
        }
        String k = string();
        skip();
        expect(':');
        m.put(k, value(depth + 1));
        skip();
        char c = next();
        if (c == '}') {
          return m;
        }
        if (c != ',') {
          throw fail("expected ',' or '}'");
        }
      }
    }

    private List<Object> array(int depth) {
      List<Object> l = new ArrayList<>();
      i++;
      skip();
      if (peek() == ']') {
        i++;
        return l;
      }
      while (true) {
        l.add(value(depth + 1));
        skip();
        char c = next();
        if (c == ']') {
          return l;
        }
        if (c != ',') {
          throw fail("expected ',' or ']'");
        }
      }
    }

    private String string() {
      i++;
      StringBuilder sb = new StringBuilder();
      while (true) {
        if (i >= s.length()) {
          throw fail("unterminated string");
        }
        char c = s.charAt(i++);
        if (c == '"') {
          return sb.toString();
        }
        if (c < 0x20) {
          throw fail("control character in a string");
        }
        if (c != '\\') {
          sb.append(c);
          continue;
        }
        char e = next();
        switch (e) {
          case '"', '\\', '/' -> sb.append(e);
          case 'n' -> sb.append('\n');
          case 'r' -> sb.append('\r');
          case 't' -> sb.append('\t');
          case 'b' -> sb.append('\b');
          case 'f' -> sb.append('\f');
          case 'u' -> {
            if (i + 4 > s.length()) {
              throw fail("short \\u escape");
            }
            try {
              sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            } catch (NumberFormatException x) {
              throw fail("bad \\u escape");
            }
            i += 4;
          }
          default -> throw fail("unknown escape \\" + e);
        }
      }
    }

    private Object number() {
      int start = i;
      if (peek() == '-') {
        i++;
      }
      if (peek() == '0') {
        i++;
        if (Character.isDigit(peek())) {
          throw fail("leading zero");
        }
      } else if (!digits()) {
        throw fail("expected a digit");
      }
      boolean integral = true;
      if (peek() == '.') {
        i++;
        integral = false;
        if (!digits()) {
          throw fail("expected a digit after '.'");
        }
      }
      if (peek() == 'e' || peek() == 'E') {
        i++;
        integral = false;
        if (peek() == '+' || peek() == '-') {
          i++;
        }
        if (!digits()) {
          throw fail("expected an exponent");
        }
      }
      String text = s.substring(start, i);
      if (integral) {
        BigInteger big = new BigInteger(text);
        return big.bitLength() < 64 ? (Object) big.longValue() : big;
      }
      return new BigDecimal(text);
    }

    private boolean digits() {
      int start = i;
      while (Character.isDigit(peek())) {
        i++;
      }
      return i > start;
    }

    private Object literal(String word, Object value) {
      if (!s.startsWith(word, i)) {
        throw fail("expected " + word);
      }
      i += word.length();
      return value;
    }

    void end() {
      skip();
      if (i != s.length()) {
        throw fail("trailing characters");
      }
    }

    private void skip() {
      while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\n' || s.charAt(i) == '\r' || s.charAt(i) == '\t')) {
        i++;
      }
    }

    private char peek() {
      return i < s.length() ? s.charAt(i) : '\0';
    }

    private char next() {
      if (i >= s.length()) {
        throw fail("unexpected end");
      }
      return s.charAt(i++);
    }

    private void expect(char c) {
      if (next() != c) {
        throw fail("expected '" + c + "'");
      }
    }

    private IllegalArgumentException fail(String what) {
      return new IllegalArgumentException("JSON: " + what + " at position " + i);
    }
  }

  // ---- reading: tree to type ----

  private record RecordInfo(RecordComponent[] components, Constructor<?> constructor) {}

  private static RecordInfo record(Class<?> type) {
    return RECORDS.computeIfAbsent(type, t -> {
      RecordComponent[] cs = t.getRecordComponents();
      Class<?>[] types = new Class<?>[cs.length];
      for (int k = 0; k < cs.length; k++) {
        types[k] = cs[k].getType();
      }
      try {
        Constructor<?> c = t.getDeclaredConstructor(types);
        c.setAccessible(true);
        for (RecordComponent rc : cs) {
          rc.getAccessor().setAccessible(true);
        }
        return new RecordInfo(cs, c);
      } catch (NoSuchMethodException | RuntimeException e) {
        throw new IllegalArgumentException("JSON: cannot use record " + t.getName() + ": " + e, e);
      }
    });
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Object convert(Object tree, Type target, String path) {
    Class<?> raw = rawClass(target);
    if (tree == null) {
      if (raw.isPrimitive()) {
        throw new IllegalArgumentException("JSON: " + path + " is null or missing, but " + raw + " needs a value");
      }
      return null;
    }
    if (raw == Object.class) {
      return tree;
    }
    if (raw == String.class) {
      return expect(tree, String.class, path);
    }
    if (raw == boolean.class || raw == Boolean.class) {
      return expect(tree, Boolean.class, path);
    }
    if (raw == Instant.class) {
      try {
        return Instant.parse(expect(tree, String.class, path));
      } catch (java.time.format.DateTimeParseException e) {
        throw new IllegalArgumentException("JSON: " + path + " is not an ISO-8601 instant: " + tree, e);
      }
    }
    if (raw == char.class || raw == Character.class) {
      String text = expect(tree, String.class, path);
      if (text.length() != 1) {
        throw new IllegalArgumentException("JSON: " + path + " must be one character, but was \"" + text + "\"");
      }
      return text.charAt(0);
    }
    if (raw.isEnum()) {
      String name = expect(tree, String.class, path);
      try {
        return Enum.valueOf((Class<Enum>) raw, name);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("JSON: " + path + " is not a " + raw.getSimpleName() + ": " + name, e);
      }
    }
    if (Number.class.isAssignableFrom(box(raw))) {
      return number(tree, box(raw), path);
    }
    if (raw.isRecord()) {
      Map<String, Object> m = expect(tree, Map.class, path);
      RecordInfo info = record(raw);
      Object[] args = new Object[info.components.length];
      for (int k = 0; k < args.length; k++) {
        RecordComponent c = info.components[k];
        args[k] = convert(m.get(c.getName()), c.getGenericType(), path + "." + c.getName());
      }
      try {
        return info.constructor.newInstance(args);
      } catch (InvocationTargetException e) {
        throw new IllegalArgumentException("JSON: " + path + " was refused by " + raw.getSimpleName() + ": "
            + e.getCause(), e.getCause());
      } catch (ReflectiveOperationException e) {
        throw new IllegalArgumentException("JSON: cannot make " + raw.getName() + ": " + e, e);
      }
    }
    if (Map.class.isAssignableFrom(raw)) {
      Map<String, Object> m = expect(tree, Map.class, path);
      Type valueType = typeArgument(target, 1);
      Map<String, Object> out = new LinkedHashMap<>();
      for (Map.Entry<String, Object> e : m.entrySet()) {
        out.put(e.getKey(), convert(e.getValue(), valueType, path + "." + e.getKey()));
      }
      return out;
    }
    if (Collection.class.isAssignableFrom(raw)) {
      List<Object> l = expect(tree, List.class, path);
      Type elementType = typeArgument(target, 0);
      Collection<Object> out = java.util.Set.class.isAssignableFrom(raw) ? new java.util.LinkedHashSet<>()
          : new ArrayList<>(l.size());
      for (int k = 0; k < l.size(); k++) {
        out.add(convert(l.get(k), elementType, path + "[" + k + "]"));
      }
      return out;
    }
    if (raw.isArray()) {
      List<Object> l = expect(tree, List.class, path);
      Type elementType = target instanceof GenericArrayType g ? g.getGenericComponentType() : raw.getComponentType();
      Object out = Array.newInstance(rawClass(elementType), l.size());
      for (int k = 0; k < l.size(); k++) {
        Array.set(out, k, convert(l.get(k), elementType, path + "[" + k + "]"));
      }
      return out;
    }
    throw new IllegalArgumentException("JSON: cannot read a " + raw.getName() + " at " + path);
  }

  private static Object number(Object tree, Class<?> boxed, String path) {
    if (!(tree instanceof Number n)) {
      throw new IllegalArgumentException("JSON: " + path + " must be a number, but was " + describe(tree));
    }
    BigDecimal d = n instanceof BigDecimal bd ? bd : n instanceof BigInteger bi ? new BigDecimal(bi)
        : BigDecimal.valueOf(n.longValue());
    try {
      if (boxed == Long.class) {
        return d.longValueExact();
      }
      if (boxed == Integer.class) {
        return d.intValueExact();
      }
      if (boxed == Short.class) {
        return d.shortValueExact();
      }
      if (boxed == Byte.class) {
        return d.byteValueExact();
      }
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("JSON: " + path + " = " + d + " does not fit a " + boxed.getSimpleName(), e);
    }
    if (boxed == Double.class) {
      return d.doubleValue();
    }
    if (boxed == Float.class) {
      return d.floatValue();
    }
    if (boxed == BigInteger.class) {
      try {
        return d.toBigIntegerExact();
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException("JSON: " + path + " = " + d + " is not a whole number", e);
      }
    }
    if (boxed == BigDecimal.class || boxed == Number.class) {
      return d;
    }
    throw new IllegalArgumentException("JSON: cannot read a " + boxed.getName() + " at " + path);
  }

  @SuppressWarnings("unchecked")
  private static <T> T expect(Object tree, Class<T> type, String path) {
    if (!type.isInstance(tree)) {
      throw new IllegalArgumentException("JSON: " + path + " must be " + kind(type) + ", but was " + describe(tree));
    }
    return (T) tree;
  }

  private static String kind(Class<?> type) {
    return type == Map.class ? "an object" : type == List.class ? "an array" : type == String.class ? "a string"
        : type == Boolean.class ? "true or false" : type.getSimpleName();
  }

  private static String describe(Object tree) {
    return tree instanceof Map ? "an object" : tree instanceof List ? "an array"
        : tree instanceof String ? "a string" : String.valueOf(tree);
  }

  private static Class<?> rawClass(Type t) {
    if (t instanceof Class<?> c) {
      return c;
    }
    if (t instanceof ParameterizedType p) {
      return (Class<?>) p.getRawType();
    }
    if (t instanceof GenericArrayType g) {
      return Array.newInstance(rawClass(g.getGenericComponentType()), 0).getClass();
    }
    return Object.class; // type variables and wildcards: untyped
  }

  private static Type typeArgument(Type t, int index) {
    if (t instanceof ParameterizedType p && p.getActualTypeArguments().length > index) {
      Type a = p.getActualTypeArguments()[index];
      return a instanceof java.lang.reflect.WildcardType w ? w.getUpperBounds()[0] : a;
    }
    return Object.class;
  }

  private static Class<?> box(Class<?> c) {
    if (!c.isPrimitive()) {
      return c;
    }
    return c == int.class ? Integer.class : c == long.class ? Long.class : c == double.class ? Double.class
        : c == float.class ? Float.class : c == short.class ? Short.class : c == byte.class ? Byte.class
        : c == boolean.class ? Boolean.class : Character.class;
  }
}
