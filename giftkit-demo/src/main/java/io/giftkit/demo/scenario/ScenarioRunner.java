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
 * passed, 1 if not (the ledger does not reconcile, panel availability under 99.99%, …).
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
  public void run(ApplicationArguments args) throws Exception {
    int port = ((WebServerApplicationContext) context).getWebServer().getPort();
    ScenarioReport report = scenario.run(port, Duration.ofSeconds(seconds));
    System.out.println(report.render());
    int code = report.failures().isEmpty() ? 0 : 1;
    System.exit(SpringApplication.exit(context, () -> code));
  }
}
