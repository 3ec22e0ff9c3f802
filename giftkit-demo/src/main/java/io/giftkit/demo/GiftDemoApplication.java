package io.giftkit.demo;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.event.EventListener;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** Starts the reference gift system ({@code scripts/demo}). */
@SpringBootApplication
@ConfigurationPropertiesScan
public class GiftDemoApplication {

  private static final Logger LOG = LoggerFactory.getLogger(GiftDemoApplication.class);

  public static void main(String[] args) {
    SpringApplication.run(GiftDemoApplication.class, args);
  }

  /** Says where to look once the server is up. */
  @EventListener
  public void ready(ApplicationReadyEvent event) {
    if (event.getApplicationContext() instanceof WebServerApplicationContext web) {
      int port = web.getWebServer().getPort();
      LOG.info("GiftKit demo ready: http://localhost:{}/api/rooms/1/panel?uid=1001 (breakers: http://localhost:{}/actuator/giftkit;"
          + " faults: POST http://localhost:{}/admin/faults)", port, port, port);
    }
  }
}
