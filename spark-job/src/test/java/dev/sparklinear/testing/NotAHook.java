package dev.sparklinear.testing;

import java.util.concurrent.atomic.AtomicInteger;

/** A class a config might name by mistake: public, with a no-argument constructor, but not a hook. */
public class NotAHook {
  public static final AtomicInteger INSTANCES = new AtomicInteger();

  public NotAHook() {
    INSTANCES.incrementAndGet();
  }
}
