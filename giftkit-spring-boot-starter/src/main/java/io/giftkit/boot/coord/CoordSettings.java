package io.giftkit.boot.coord;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.giftkit.boot.GiftkitPropertyException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.net.ssl.SSLException;
import org.springframework.boot.ssl.NoSuchSslBundleException;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;

/** Checks {@code giftkit.coord.*} and builds the jetcd client from it; nothing here logs the password. */
final class CoordSettings {

  static final String PREFIX = "giftkit.coord";

  private CoordSettings() {}

  /** @return the endpoints, each checked: http(s)://host:port, no credentials, no path */
  static List<String> endpoints(GiftkitCoordProperties p) {
    List<String> endpoints = p.getEndpoints();
    if (endpoints == null || endpoints.isEmpty()) {
      throw GiftkitPropertyException.invalid(PREFIX + ".endpoints",
          "must be set (http://host:port, …) when " + PREFIX + ".enabled is true", "none");
    }
    boolean tls = p.getSsl().getBundle() != null && !p.getSsl().getBundle().isBlank();
    for (int i = 0; i < endpoints.size(); i++) {
      String property = PREFIX + ".endpoints[" + i + "]";
      String e = endpoints.get(i);
      URI uri;
      try {
        uri = new URI(e == null ? "" : e.trim());
      } catch (URISyntaxException ex) {
        throw GiftkitPropertyException.invalid(property, "must be a URL http://host:port or https://host:port",
            quoted(e));
      }
      if (uri.getRawUserInfo() != null) {
        throw GiftkitPropertyException.invalid(property, "must not hold credentials (use " + PREFIX + ".username and "
            + PREFIX + ".password)", "a value not shown (it may hold a password)");
      }
      String scheme = uri.getScheme();
      if (scheme == null || !(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null
          || uri.getPort() <= 0 || !(uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/"))
          || uri.getRawQuery() != null) {
        throw GiftkitPropertyException.invalid(property, "must be a URL http://host:port or https://host:port", quoted(e));
      }
      if (scheme.equals("https") && !tls) {
        throw GiftkitPropertyException.invalid(property, "is https:// and needs " + PREFIX + ".ssl.bundle to be set",
            quoted(e));
      }
      if (scheme.equals("http") && tls) {
        throw GiftkitPropertyException.invalid(property, "must be https:// when " + PREFIX + ".ssl.bundle is set",
            quoted(e));
      }
    }
    return endpoints.stream().map(String::trim).toList();
  }

  /** @return the namespace, checked: empty or ending with '/' */
  static String namespace(GiftkitCoordProperties p) {
    String ns = p.getNamespace() == null ? "" : p.getNamespace();
    if (!ns.isEmpty() && (ns.isBlank() || !ns.endsWith("/") || ns.startsWith("/"))) {
      throw GiftkitPropertyException.invalid(PREFIX + ".namespace",
          "must be empty or end with '/' (and not start with it)", quoted(ns));
    }
    return ns;
  }

  static Client client(GiftkitCoordProperties p, SslBundles bundles) {
    List<String> endpoints = endpoints(p);
    if (p.getTimeout() == null || p.getTimeout().isNegative() || p.getTimeout().isZero()) {
      throw GiftkitPropertyException.invalid(PREFIX + ".timeout", "must be positive",
          io.giftkit.core.Checks.describe(p.getTimeout()));
    }
    ClientBuilder b = Client.builder().endpoints(endpoints.toArray(String[]::new)).connectTimeout(p.getTimeout());
    boolean user = p.getUsername() != null && !p.getUsername().isBlank();
    boolean password = p.getPassword() != null && !p.getPassword().isEmpty();
    if (user != password) {
      throw GiftkitPropertyException.invalid(PREFIX + (user ? ".password" : ".username"),
          "must be set together with " + PREFIX + (user ? ".username" : ".password"), "none");
    }
    if (user) {
      b.user(ByteSequence.from(p.getUsername(), StandardCharsets.UTF_8))
          .password(ByteSequence.from(p.getPassword(), StandardCharsets.UTF_8));
    }
    String bundleName = p.getSsl().getBundle();
    if (bundleName != null && !bundleName.isBlank()) {
      if (bundles == null) {
        throw GiftkitPropertyException.invalid(PREFIX + ".ssl.bundle",
            "needs Spring Boot's SSL bundles (SslAutoConfiguration)", quoted(bundleName));
      }
      SslBundle bundle;
      try {
        bundle = bundles.getBundle(bundleName);
      } catch (NoSuchSslBundleException e) {
        throw GiftkitPropertyException.invalid(PREFIX + ".ssl.bundle", "must name a bundle under spring.ssl.bundle.*",
            quoted(bundleName));
      }
      try {
        b.sslContext(ssl -> {
          ssl.trustManager(bundle.getManagers().getTrustManagerFactory());
          if (bundle.getStores().getKeyStore() != null) {
            ssl.keyManager(bundle.getManagers().getKeyManagerFactory());
          }
          if (bundle.getOptions().getCiphers() != null) {
            ssl.ciphers(List.of(bundle.getOptions().getCiphers()));
          }
          if (bundle.getOptions().getEnabledProtocols() != null) {
            ssl.protocols(bundle.getOptions().getEnabledProtocols());
          }
        });
      } catch (SSLException e) {
        throw GiftkitPropertyException.invalid(PREFIX + ".ssl.bundle", "must give a usable TLS client context ("
            + e.getMessage() + ")", quoted(bundleName));
      }
    }
    return b.build();
  }

  static String quoted(String s) {
    return s == null ? "null" : "\"" + s + "\"";
  }
}
