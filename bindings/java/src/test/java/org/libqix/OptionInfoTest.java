package org.libqix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** SessionOptions.describe(): libqix's one options table, as Java sees it. */
class OptionInfoTest {
  private static OptionInfo find(List<OptionInfo> all, String name) {
    return all.stream().filter(o -> o.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError(name));
  }

  @Test
  void describeListsEveryOptionOnceWithItsTypeBoundsAndDefault() {
    List<OptionInfo> all = SessionOptions.describe();
    assertTrue(all.size() >= 30, "only " + all.size() + " options");
    Set<String> names = new HashSet<>();
    for (OptionInfo o : all) {
      assertTrue(names.add(o.name()), "twice: " + o.name());
      assertFalse(o.doc().trim().isEmpty(), o.name());
    }
    OptionInfo call = find(all, "timeout.call_ms");
    assertEquals(OptionInfo.Type.INT, call.type());
    assertEquals(0, call.min());
    assertEquals(Long.MAX_VALUE, call.max());
    assertEquals("0", call.defaultValue());
    assertTrue(Long.parseLong(find(all, "timeout.connect_ms").defaultValue()) > 0);
    OptionInfo reconnect = find(all, "reconnect");
    assertEquals(OptionInfo.Type.STRING, reconnect.type());
    assertEquals(Arrays.asList("none", "attach", "resume"), reconnect.values());
    assertEquals("none", reconnect.defaultValue());
    assertEquals(OptionInfo.Type.BOOL, find(all, "delta").type());
  }

  @Test
  void everyDescribedOptionIsAcceptedWithItsDefault() {
    // The description and the setters' validation are one table: each default set back is accepted.
    SessionOptions options = new SessionOptions();
    for (OptionInfo o : SessionOptions.describe()) {
      switch (o.type()) {
        case INT:
          options.set(o.name(), Long.parseLong(o.defaultValue()));
          break;
        case BOOL:
          options.set(o.name(), o.defaultValue().equals("true"));
          break;
        default:
          if (!o.defaultValue().isEmpty()) {
            options.set(o.name(), o.defaultValue());
          }
      }
    }
    QixException e = assertThrows(QixException.class, () -> options.set("no.such.option", 1L));
    assertEquals(QixException.Code.INVALID_ARGUMENT, e.code());
  }
}
