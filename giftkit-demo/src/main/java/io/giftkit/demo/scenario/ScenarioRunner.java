package io.giftkit.demo.scenario;

import java.time.Duration;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ApplicationContext;
import org.springframework.stereotype.Component;

/**
 * With {@code --giftkit.demo.scenario-seconds=N} ({@code scripts/demo-scenario}): runs the
 * {@link Scenario} for N seconds once the application is up, prints its report, and exits 0 if it
 * passed, 1 if not (the ledger does not reconcile, panel availability under 99.99%, …) or if the
 * run itself failed (the failure is printed; the JVM exits either way, leaving no thread behind).
 */
@Component
@ConditionalOnProperty("giftkit.demo.scenario-seconds")
public class ScenarioRunner implements ApplicationRunner {

  private final Scenario scenario;
  private final ApplicationContext context;
  private final long seconds;

  public ScenarioRunner(Scenario scenario, ApplicationContext context,
      @org.springframework.beans.factory.annotation.Value("${giftkit.demo.scenario-seconds}") long seconds) {
    this.scenario = scenario;
    this.context = context;
    this.seconds = seconds;
  }

  @Override
  public void run(ApplicationArguments args) {
    int code;
    try {
      int port = ((WebServerApplicationContext) context).getWebServer().getPort();
      ScenarioReport report = scenario.run(port, Duration.ofSeconds(seconds));
      System.out.println(report.render());
      code = report.failures().isEmpty() ? 0 : 1;
    } catch (Exception | Error e) { // a failure inside the run is a reported failure, never a hung JVM
      System.out.println("GiftKit demo scenario FAILED: the run itself failed: " + e);
      e.printStackTrace(System.out);
      code = 1;
    }
    int result = code;
    int exit = code;
    try {
      exit = SpringApplication.exit(context, () -> result);
    } finally {
      System.exit(exit);
    }
  }
}
