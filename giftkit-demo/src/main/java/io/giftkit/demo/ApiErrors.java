package io.giftkit.demo;

import io.giftkit.core.InvalidConfigException;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/** Bad input becomes a 400 whose body names the parameter, the rule and the bad value. */
@RestControllerAdvice
public class ApiErrors {

  @ExceptionHandler(InvalidConfigException.class)
  public ResponseEntity<Map<String, String>> badInput(InvalidConfigException e) {
    return ResponseEntity.status(HttpStatus.BAD_REQUEST).body(Map.of(
        "error", e.getMessage(), "parameter", e.parameter(), "rule", e.rule(), "value", e.value()));
  }
}
