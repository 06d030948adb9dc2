package dev.sparklinear.core.nn;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An ordered, copy-on-write list of hooks. Modules are shared by every task thread of an executor, so calls read a
 * snapshot without locking while registration (rare) copies the array.
 */
final class HookList<H> {
  private static final AtomicLong NEXT_ID = new AtomicLong();

  /** One registered hook; {@code id} is unique in the JVM, like PyTorch's handle ids. */
  static final class Entry<H> {
    final long id;
    final H hook;
    final boolean alwaysCall;

    Entry(long id, H hook, boolean alwaysCall) {
      this.id = id;
      this.hook = hook;
      this.alwaysCall = alwaysCall;
    }
  }

  @SuppressWarnings("unchecked")
  private volatile Entry<H>[] entries = new Entry[0];

  Entry<H>[] snapshot() {
    return entries;
  }

  boolean isEmpty() {
    return entries.length == 0;
  }

  RemovableHandle add(H hook, boolean prepend, boolean alwaysCall) {
    if (hook == null) {
      throw new NullPointerException("hook");
    }
    Entry<H> entry = new Entry<>(NEXT_ID.getAndIncrement(), hook, alwaysCall);
    synchronized (this) {
      Entry<H>[] old = entries;
      @SuppressWarnings("unchecked")
      Entry<H>[] next = new Entry[old.length + 1];
      if (prepend) {
        next[0] = entry;
        System.arraycopy(old, 0, next, 1, old.length);
      } else {
        System.arraycopy(old, 0, next, 0, old.length);
        next[old.length] = entry;
      }
      entries = next;
    }
    return () -> remove(entry.id);
  }

  private synchronized void remove(long id) {
    Entry<H>[] old = entries;
    for (int i = 0; i < old.length; i++) {
      if (old[i].id == id) {
        Entry<H>[] next = Arrays.copyOf(old, old.length - 1);
        System.arraycopy(old, i + 1, next, i, old.length - i - 1);
        entries = next;
        return;
      }
    }
  }

  synchronized void clear() {
    entries = Arrays.copyOf(entries, 0);
  }
}
