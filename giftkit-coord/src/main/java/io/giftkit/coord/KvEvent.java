package io.giftkit.coord;

import io.giftkit.core.Checks;

/**
 * One change seen by a {@link KvWatch}: a key was written or deleted, at a store revision.
 *
 * @param type {@link Type#PUT} or {@link Type#DELETE}
 * @param key the key, without the store's prefix
 * @param value the value written ({@code PUT}); the empty string for a {@code DELETE}
 * @param revision the store revision of the change (for a {@code PUT}, the entry's new
 *     {@link KvEntry#modRevision()}); several keys changed by one transaction share one revision
 */
public record KvEvent(Type type, String key, String value, long revision) {

  /** What happened to the key. */
  public enum Type {
    /** The key was created or overwritten. */
    PUT,
    /** The key was deleted (also when its lease ended). */
    DELETE
  }

  /**
   * Checks the components.
   *
   * @param type what happened; not null
   * @param key the key; not null
   * @param value the value, empty for a delete; not null
   * @param revision the store revision of the change; positive
   */
  public KvEvent {
    Checks.requireNonNull("type", type);
    Checks.requireNonNull("key", key);
    Checks.requireNonNull("value", value);
    Checks.requirePositive("revision", revision);
  }
}
