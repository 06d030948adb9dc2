package dev.sparklinear.job;

import dev.sparklinear.core.hooks.Clamp;
import dev.sparklinear.core.hooks.L2Normalize;
import dev.sparklinear.core.hooks.NanGuard;
import dev.sparklinear.core.hooks.Relu;
import dev.sparklinear.core.hooks.Sigmoid;
import dev.sparklinear.core.hooks.Softmax;
import dev.sparklinear.core.hooks.Standardize;
import dev.sparklinear.core.hooks.Tanh;
import dev.sparklinear.core.nn.ForwardHook;
import dev.sparklinear.core.nn.ForwardPreHook;
import dev.sparklinear.core.nn.Module;
import dev.sparklinear.core.nn.Sequential;
import dev.sparklinear.core.tensor.Tensor;
import dev.sparklinear.core.weights.NpyReader;
import dev.sparklinear.job.config.Hook;
import dev.sparklinear.job.config.JobConfig;
import dev.sparklinear.job.config.JobConfig.LayerHooks;
import dev.sparklinear.job.config.Values;
import dev.sparklinear.spark.hooks.ConfiguredHook;
import dev.sparklinear.spark.hooks.DimensionStats;
import dev.sparklinear.spark.hooks.StatsHook;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkContext;

/**
 * The hooks a job config asks for, built on the driver: the built-in hooks with their parameters (vectors read from
 * {@code .npy} files through Hadoop's FileSystem), a registered accumulator for each {@code stats} hook, and a
 * {@link ConfiguredHook} for each user hook class, checked here and instantiated on the executors.
 *
 * <pre>{@code
 * List<String> problems = new ArrayList<>();
 * JobHooks hooks = JobHooks.build(config, hadoop, spark.sparkContext(), problems);
 * if (problems.isEmpty()) {
 *   hooks.registerOn(module);   // pre-hooks in order, then forward hooks in order; hooks.layers on the children
 * }
 * }</pre>
 */
public final class JobHooks {
  /** Hooks by where they attach: {@code null} for the whole module, else the index of a child in module.layers. */
  private final Map<Integer, Attached> attached;
  private final Map<String, StatsHook> stats;

  /** The pre-hooks and forward hooks of one module, in order. */
  private record Attached(List<ForwardPreHook> pre, List<ForwardHook> forward) {
  }

  private JobHooks(Map<Integer, Attached> attached, Map<String, StatsHook> stats) {
    this.attached = attached;
    this.stats = stats;
  }

  /**
   * Builds every hook of {@code config}, adding a message to {@code problems} for each that cannot be built (a file
   * that cannot be read or has the wrong length, a std of 0 in a file, a class that is not a hook). Nothing runs on
   * the executors and no user class is instantiated.
   */
  public static JobHooks build(JobConfig config, Configuration hadoop, SparkContext spark, List<String> problems) {
    Map<Integer, Attached> attached = new LinkedHashMap<>();
    Map<String, StatsHook> stats = new LinkedHashMap<>();
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    List<Integer> widths = config.module().widths();
    Map<Integer, LayerHooks> sites = new LinkedHashMap<>();
    sites.put(null, new LayerHooks(config.hooks().pre(), config.hooks().forward()));
    sites.putAll(config.hooks().layers());
    sites.forEach((child, hooks) -> {
      String key = child == null ? "hooks" : "hooks.layers." + child;
      String layer = "module.layers[" + child + "]";
      Attached built = new Attached(new ArrayList<>(), new ArrayList<>());
      for (int i = 0; i < hooks.pre().size(); i++) {
        if (build(hooks.pre().get(i), key + ".pre[" + i + "]", ConfiguredHook.Kind.PRE,
            widths.get(child == null ? 0 : child), child == null ? "in_features" : "the input width of " + layer,
            hadoop, spark, loader, problems) instanceof ForwardPreHook hook) {
          built.pre.add(hook);
        }
      }
      for (int i = 0; i < hooks.forward().size(); i++) {
        String where = key + ".forward[" + i + "]";
        Object hook = build(hooks.forward().get(i), where, ConfiguredHook.Kind.FORWARD,
            widths.get(child == null ? widths.size() - 1 : child + 1),
            child == null ? "out_features" : "the output width of " + layer, hadoop, spark, loader, problems);
        if (hook instanceof StatsHook statsHook) {
          stats.put(where, statsHook);
        }
        if (hook instanceof ForwardHook forwardHook) {
          built.forward.add(forwardHook);
        }
      }
      attached.put(child, built);
    });
    return new JobHooks(attached, stats);
  }

  private static Object build(Hook spec, String where, ConfiguredHook.Kind kind, int width, String widthName,
      Configuration hadoop, SparkContext spark, ClassLoader loader, List<String> problems) {
    if (spec instanceof Hook.UserClass user) {
      ConfiguredHook hook = new ConfiguredHook(user.className(), kind, user.params(), where);
      var problem = hook.check(loader);
      problem.ifPresent(problems::add);
      return problem.isPresent() ? null : hook;
    }
    try {
      if (spec instanceof Hook.Standardize s) {
        return new Standardize(vector(s.mean(), s.meanPath(), "mean", width, widthName, hadoop),
            vector(s.std(), s.stdPath(), "std", width, widthName, hadoop));
      } else if (spec instanceof Hook.L2Normalize l2) {
        return l2.eps() == null ? new L2Normalize() : new L2Normalize(l2.eps());
      } else if (spec instanceof Hook.Clamp clamp) {
        return new Clamp(clamp.min(), clamp.max());
      } else if (spec instanceof Hook.NanGuard guard) {
        return guard.action() == Hook.NanAction.REPLACE ? NanGuard.replace(orDefault(guard.nan(), 0f),
            orDefault(guard.posinf(), Float.MAX_VALUE), orDefault(guard.neginf(), -Float.MAX_VALUE)) : NanGuard.fail();
      } else if (spec instanceof Hook.Stats s) {
        return StatsHook.register(spark, "spark-linear stats " + where, width, s.bins(), s.min(), s.max());
      } else if (spec instanceof Hook.Relu) {
        return new Relu();
      } else if (spec instanceof Hook.Sigmoid) {
        return new Sigmoid();
      } else if (spec instanceof Hook.Tanh) {
        return new Tanh();
      } else if (spec instanceof Hook.Softmax) {
        return new Softmax();
      }
      throw new IllegalStateException("no hook is built for " + spec);
    } catch (RuntimeException e) {
      problems.add("Cannot build hook " + where + " (" + spec.typeName() + "): " + e.getMessage());
      return null;
    }
  }

  private static float orDefault(Float value, float fallback) {
    return value == null ? fallback : value;
  }

  /** An inline vector, or one read from its {@code -path} file; either must have {@code width} values. */
  private static float[] vector(List<Float> inline, String path, String name, int width, String widthName,
      Configuration hadoop) {
    if (inline != null) {
      return Values.floats(inline);
    }
    try {
      org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(path);
      if (!file.getFileSystem(hadoop).exists(file)) {
        throw new IllegalArgumentException(name + "-path " + path + " does not exist; check the path (a relative"
            + " path is resolved against the working directory)");
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("Cannot read " + name + "-path " + path + ": " + e.getMessage(), e);
    }
    Tensor tensor = NpyReader.read(ModuleLoader.readFile(path, hadoop), path);
    if (tensor.dim() != 1 || tensor.numel() != width) {
      throw new IllegalArgumentException(name + "-path " + path + " holds an array of shape " + tensor.shapeString()
          + ", expected [" + width + "] (" + widthName + " = " + width + ")");
    }
    return tensor.toArray();
  }

  /** The config entry name of the stats hook the job adds for {@code --report} when the config has none. */
  public static final String REPORT_STATS = "report";

  /**
   * These hooks plus, when none of them gathers statistics, a {@code stats} forward hook with the default bins, so
   * that the report has histograms to draw.
   */
  public JobHooks withStatistics(SparkContext spark, int outFeatures) {
    if (!stats.isEmpty()) {
      return this;
    }
    StatsHook hook = StatsHook.register(spark, "spark-linear stats " + REPORT_STATS, outFeatures, 20, -10f, 10f);
    Map<Integer, Attached> withReport = new LinkedHashMap<>(attached);
    List<ForwardHook> forward = new ArrayList<>(attached.get(null).forward());
    forward.add(hook);
    withReport.put(null, new Attached(attached.get(null).pre(), forward));
    return new JobHooks(withReport, Map.of(REPORT_STATS, hook));
  }

  /**
   * Registers the pre-hooks in order, then the forward hooks in order, on {@code module}, and those of
   * {@code hooks.layers.<i>} on its child {@code i}.
   */
  public void registerOn(Module module) {
    attached.forEach((child, hooks) -> {
      Module target = child == null ? module : ((Sequential) module).get(child);
      hooks.pre().forEach(target::registerForwardPreHook);
      hooks.forward().forEach(target::registerForwardHook);
    });
  }

  /** Each stats hook's statistics so far, by config entry ({@code hooks.forward[2]}), in order. */
  public Map<String, List<DimensionStats>> statistics() {
    Map<String, List<DimensionStats>> out = new LinkedHashMap<>();
    stats.forEach((where, hook) -> out.put(where, hook.value()));
    return out;
  }
}
