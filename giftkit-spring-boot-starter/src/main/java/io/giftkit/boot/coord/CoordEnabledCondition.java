package io.giftkit.boot.coord;

import java.util.List;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * On when {@code giftkit.coord.enabled=true}, or when it is unset and {@code giftkit.coord.endpoints}
 * is set (as a list or comma-separated); off otherwise. An explicit {@code true} without endpoints is
 * on, so that start-up fails naming the missing property instead of silently defining nothing.
 */
final class CoordEnabledCondition extends SpringBootCondition {

  @Override
  public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
    Binder binder = Binder.get(context.getEnvironment());
    Boolean enabled = binder.bind("giftkit.coord.enabled", Boolean.class).orElse(null);
    if (enabled != null) {
      return enabled ? ConditionOutcome.match("giftkit.coord.enabled is true")
          : ConditionOutcome.noMatch("giftkit.coord.enabled is false");
    }
    List<String> endpoints = binder.bind("giftkit.coord.endpoints", Bindable.listOf(String.class)).orElse(List.of());
    return endpoints.isEmpty() ? ConditionOutcome.noMatch("giftkit.coord.endpoints is not set")
        : ConditionOutcome.match("giftkit.coord.endpoints is set");
  }
}
