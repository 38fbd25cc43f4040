package org.libqix;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * One session option as libqix describes it: the same table that validates {@link SessionOptions}' setters
 * and that {@code docs/defaults.md} prints, so a host can list the options with their bounds and defaults
 * ({@link SessionOptions#describe()}). Immutable; thread-safe.
 */
public final class OptionInfo {
  /** Which setter an option takes (the C API's {@code qix_option_type}). */
  public enum Type {
    /** Text: {@link SessionOptions#set(String, String)}. */
    STRING,
    /** An integer: {@link SessionOptions#set(String, long)}. */
    INT,
    /** A boolean: {@link SessionOptions#set(String, boolean)}. */
    BOOL;

    static Type of(int nativeType) {
      if (nativeType == qix_option_type.QIX_OPTION_INT) {
        return INT;
      }
      return nativeType == qix_option_type.QIX_OPTION_BOOL ? BOOL : STRING;
    }
  }

  private final String name;
  private final Type type;
  private final long min;
  private final long max;
  private final List<String> values;
  private final String defaultValue;
  private final String doc;

  private OptionInfo(NativeOptionInfo n) {
    name = n.getName();
    type = Type.of(n.getValue_type());
    min = n.getMin();
    max = n.getMax();
    String v = n.getValues();
    values = v.isEmpty() ? Collections.emptyList() : Collections.unmodifiableList(Arrays.asList(v.split("\\|")));
    defaultValue = n.getDefault_text();
    doc = n.getDoc();
  }

  static List<OptionInfo> all() {
    int n = QixNative.optionsCount();
    List<OptionInfo> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      NativeOptionInfo info = QixNative.optionInfo(i);
      try {
        out.add(new OptionInfo(info));
      } finally {
        info.delete();
      }
    }
    return Collections.unmodifiableList(out);
  }

  /** The option's name, e.g. {@code timeout.call_ms}. */
  public String name() {
    return name;
  }

  /** Which setter takes it. */
  public Type type() {
    return type;
  }

  /** Integers: the smallest accepted value (0 for booleans and strings). */
  public long min() {
    return min;
  }

  /** Integers: the largest accepted value ({@link Long#MAX_VALUE}: no upper bound). */
  public long max() {
    return max;
  }

  /** Strings with a fixed set of values: those values (e.g. none, attach, resume); else empty. */
  public List<String> values() {
    return values;
  }

  /** The default as text: "30000", "true", "none", or "" when empty. */
  public String defaultValue() {
    return defaultValue;
  }

  /** What it does, in one line. */
  public String doc() {
    return doc;
  }

  @Override
  public String toString() {
    return name + " (" + type + ", default \"" + defaultValue + "\")";
  }
}
