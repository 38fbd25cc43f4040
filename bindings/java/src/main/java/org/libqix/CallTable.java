package org.libqix;

import java.util.ArrayList;
import java.util.List;

/**
 * The calls in flight, process-wide: one slot per call, found again from its token by index instead of a map
 * lookup. A call's token is negative (listener tokens, {@link Dispatch#register}, are positive) and carries
 * the slot's index and a generation, so an event that arrives after its call was settled (by {@link
 * Session#close}) is ignored even when the slot has been reused meanwhile.
 *
 * <p>Each call is taken out exactly once: by its completion ({@link #take}), by a failure to send it, or by
 * the close of its session ({@link #takeAll}), whichever comes first; the others then find nothing.
 *
 * <p>Threads: any thread; one lock, held for a few array accesses only.
 */
final class CallTable {
  private static final Object LOCK = new Object();
  // All guarded by LOCK.
  private static CallFuture<?>[] slots = new CallFuture<?>[256];
  private static int[] generations = new int[256];
  private static int[] free = new int[256];
  private static int freeCount;
  private static int used; // slots handed out at least once: [0, used)
  private static int live;

  private CallTable() {}

  /** Registers a call; returns its token (negative). */
  static long add(CallFuture<?> f) {
    synchronized (LOCK) {
      int index;
      if (freeCount > 0) {
        index = free[--freeCount];
      } else {
        if (used == slots.length) {
          int n = slots.length * 2;
          slots = java.util.Arrays.copyOf(slots, n);
          generations = java.util.Arrays.copyOf(generations, n);
          free = java.util.Arrays.copyOf(free, n);
        }
        index = used++;
      }
      int gen = (generations[index] + 1) & 0x7fffffff;
      if (gen == 0) {
        gen = 1;
      }
      generations[index] = gen;
      slots[index] = f;
      live++;
      return -(((long) gen << 32) | (index + 1L));
    }
  }

  /** Takes the call of {@code token} out; null when it is not a call token or was taken out already. */
  static CallFuture<?> take(long token) {
    if (token >= 0) {
      return null;
    }
    long v = -token;
    int index = (int) (v & 0xffffffffL) - 1;
    int gen = (int) (v >>> 32);
    synchronized (LOCK) {
      if (index < 0 || index >= used || generations[index] != gen) {
        return null;
      }
      CallFuture<?> f = slots[index];
      if (f == null) {
        return null;
      }
      release(index);
      return f;
    }
  }

  /** Takes out every call of {@code session} still in flight. */
  static List<CallFuture<?>> takeAll(Session session) {
    List<CallFuture<?>> out = new ArrayList<>();
    synchronized (LOCK) {
      for (int i = 0; i < used; i++) {
        CallFuture<?> f = slots[i];
        if (f != null && f.session() == session) {
          out.add(f);
          release(i);
        }
      }
    }
    return out;
  }

  /** Calls in flight (for tests). */
  static int size() {
    synchronized (LOCK) {
      return live;
    }
  }

  private static void release(int index) {
    slots[index] = null;
    free[freeCount++] = index;
    live--;
  }
}
