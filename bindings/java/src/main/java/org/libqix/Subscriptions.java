package org.libqix;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.LongConsumer;
import java.util.function.LongUnaryOperator;
import java.util.function.Supplier;

/**
 * The listeners that one owner (a {@link Session} or a {@link QixObject}) registered with libqix, and the
 * bookkeeping both share: each listener gets a {@link Dispatch} token (how native callbacks find it) and a
 * native listener id; adding after {@link #close()} fails; removing unregisters both.
 *
 * <p>Threads: thread-safe; the owner may also synchronise on this instance to guard state of its own that
 * must change together with the list (QixObject's watch token).
 */
final class Subscriptions {
  private final Object owner;
  private final List<Dispatch.Subscription> list = new ArrayList<>(); // guarded by this
  private boolean closed; // guarded by this

  Subscriptions(Object owner) {
    this.owner = owner;
  }

  /** True once {@link #close()} ran. Callers hold this instance's monitor when they act on the answer. */
  synchronized boolean isClosed() {
    return closed;
  }

  /**
   * Adds {@code listener}: registers it with Dispatch, then natively with {@code register} (given the token,
   * returns the C API's listener id), both undone if that throws.
   *
   * @throws NullPointerException when {@code listener} is null
   * @throws RuntimeException {@code closedError}'s exception once closed, or what {@code register} throws
   */
  void add(Object listener, LongUnaryOperator register, Supplier<RuntimeException> closedError) {
    Objects.requireNonNull(listener, "listener");
    Dispatch.Subscription sub = new Dispatch.Subscription(owner, listener);
    long token = Dispatch.register(sub);
    sub.token = token;
    try {
      synchronized (this) {
        if (closed) {
          throw closedError.get();
        }
        sub.nativeId = register.applyAsLong(token);
        list.add(sub);
      }
    } catch (RuntimeException e) {
      Dispatch.unregister(token);
      throw e;
    }
  }

  /**
   * Removes every registration of {@code listener}: each is unregistered from Dispatch and, through {@code
   * unregister} (given the native listener id), from libqix.
   *
   * @return whether {@code listener} was registered (false for null)
   */
  boolean remove(Object listener, LongConsumer unregister) {
    if (listener == null) {
      return false;
    }
    List<Dispatch.Subscription> removed = new ArrayList<>();
    synchronized (this) {
      list.removeIf(s -> {
        if (s.listener == listener) {
          removed.add(s);
          return true;
        }
        return false;
      });
    }
    for (Dispatch.Subscription s : removed) {
      Dispatch.unregister(s.token);
      unregister.accept(s.nativeId);
    }
    return !removed.isEmpty();
  }

  /**
   * Refuses further listeners and hands back the current ones, for the owner to unregister (with {@link
   * #unregisterAll}) once the native side can no longer call them.
   */
  synchronized List<Dispatch.Subscription> close() {
    closed = true;
    List<Dispatch.Subscription> all = new ArrayList<>(list);
    list.clear();
    return all;
  }

  /** Unregisters the Dispatch tokens of listeners that {@link #close()} handed back. */
  static void unregisterAll(List<Dispatch.Subscription> subs) {
    for (Dispatch.Subscription s : subs) {
      Dispatch.unregister(s.token);
    }
  }
}
