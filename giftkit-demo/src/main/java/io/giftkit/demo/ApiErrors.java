package io.giftkit.demo;

import io.giftkit.core.InvalidConfigException;
import io.giftkit.shard.ShardUnavailableException;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * Bad input becomes a 400 whose body names the parameter, the rule and the bad value; a shard whose
 * database is down becomes a 503 naming the shard (the pool's wait is bounded by its connection
 * timeout, so the failure is fast), while the other shards keep serving.
 */
@RestControllerAdvice
public class ApiErrors {

  @ExceptionHandler(InvalidConfigException.class)
  public ResponseEntity<Map<String, String>> badInput(InvalidConfigException e) {
    return ResponseEntity.status(HttpStatus.BAD_REQUEST).body(Map.of(
        "error", e.getMessage(), "parameter", e.parameter(), "rule", e.rule(), "value", e.value()));
  }

  @ExceptionHandler(ShardUnavailableException.class)
  public ResponseEntity<Map<String, Object>> shardDown(ShardUnavailableException e) {
    return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).header("Retry-After", "5").body(Map.of(
        "error", "shard " + e.shard() + " is unavailable; sends of users on other shards are unaffected",
        "shard", e.shard(), "cause", e.getMessage()));
  }
}
