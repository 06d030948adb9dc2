package dev.sparklinear.spark;

import dev.sparklinear.core.nn.Module;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.SparkEnv;
import org.apache.spark.broadcast.Broadcast;

/**
 * The modules of this JVM, one per broadcast: every task of an executor shares one instance, so a module is
 * deserialized and its kernel packed once per executor, not once per task or partition.
 */
final class ExecutorModules {
  /** A JVM rarely runs more than a couple of jobs' modules at once; older entries are let go. */
  private static final int MAX_ENTRIES = 8;

  private static final Map<Long, Module> MODULES = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Module> eldest) {
      return size() > MAX_ENTRIES;
    }
  };

  /** The SparkEnv the cached modules belong to: broadcast ids start again at 0 in each SparkContext. */
  private static SparkEnv owner;

  private ExecutorModules() {}

  static Module get(Broadcast<Module> broadcast) {
    synchronized (MODULES) {
      if (SparkEnv.get() != owner) { // a new context in this JVM: the old ids mean other modules
        MODULES.clear();
        owner = SparkEnv.get();
      }
      return MODULES.computeIfAbsent(broadcast.id(), id -> broadcast.value());
    }
  }
}
