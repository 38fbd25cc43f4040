package org.libqix.api;

import java.util.Objects;

/**
 * A JSON value kept as text: the members of an {@code open} struct that this version does not know (see {@link
 * GenericObjectProperties#extra}), and the types the specification leaves free-form (e.g. {@code JsonObject},
 * {@code NxMetaDef}). Written back exactly as read. Immutable.
 */
public final class RawJson {
  private final String text;

  private RawJson(String text) {
    this.text = text;
  }

  /** The value {@code text}, which must be one JSON value (not checked here: the engine checks what it gets). */
  public static RawJson of(String text) {
    return new RawJson(Objects.requireNonNull(text, "text"));
  }

  /** A JSON string value: {@code RawJson.ofString("a")} is {@code "a"}, quotes included. */
  public static RawJson ofString(String s) {
    return new RawJson(JsonWriter.quote(s));
  }

  /** The JSON text. */
  public String text() {
    return text;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RawJson && ((RawJson) o).text.equals(text);
  }

  @Override
  public int hashCode() {
    return text.hashCode();
  }

  @Override
  public String toString() {
    return text;
  }
}
