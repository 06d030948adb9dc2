package dev.sparklinear.job.config;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.sparklinear.core.nn.Module;
import dev.sparklinear.core.nn.Sequential;
import dev.sparklinear.spark.ConfigEnum;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * One entry of {@code module.layers}: a PyTorch module, one record per type, written as a name ({@code gelu}) or a
 * map with {@code type} and torch's arguments in kebab case ({@code {type: linear, in-features: 48, out-features:
 * 32}}); an argument left out takes torch's default. The list runs as torch's {@code nn.Sequential} of the same
 * modules, so its state-dict keys are torch's: {@code 0.weight}, {@code 1.running_mean}, ... Each record checks its
 * own arguments (with torch's words where torch has them) and builds its module from {@code dev.sparklinear.core.nn}.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
    @JsonSubTypes.Type(value = Layer.Linear.class, name = "linear"),
    @JsonSubTypes.Type(value = Layer.LayerNorm.class, name = "layer-norm"),
    @JsonSubTypes.Type(value = Layer.BatchNorm1d.class, name = "batch-norm-1d"),
    @JsonSubTypes.Type(value = Layer.Gelu.class, name = "gelu"),
    @JsonSubTypes.Type(value = Layer.Relu.class, name = "relu"),
    @JsonSubTypes.Type(value = Layer.Silu.class, name = "silu"),
    @JsonSubTypes.Type(value = Layer.Sigmoid.class, name = "sigmoid"),
    @JsonSubTypes.Type(value = Layer.Tanh.class, name = "tanh"),
    @JsonSubTypes.Type(value = Layer.Softmax.class, name = "softmax"),
    @JsonSubTypes.Type(value = Layer.Dropout.class, name = "dropout"),
    @JsonSubTypes.Type(value = Layer.Identity.class, name = "identity")})
public sealed interface Layer extends TypedEntry {
  /** What a layer list must be, for messages and the docs. */
  String EXPECT = "a list of layers, e.g. [{type: linear, in-features: 4, out-features: 3}, relu]";

  /** {@code nn.Linear(in_features, out_features, bias=True)}. */
  record Linear(Integer inFeatures, Integer outFeatures, Boolean bias) implements Layer {
    public Linear {
      Values.check(inFeatures == null || outFeatures == null
              ? "needs in-features and out-features, e.g. {type: linear, in-features: 48, out-features: 32}" : null,
          Values.positive("in-features", inFeatures), Values.positive("out-features", outFeatures),
          inFeatures != null && outFeatures != null && (long) inFeatures * outFeatures > Integer.MAX_VALUE
              ? "in-features * out-features = " + (long) inFeatures * outFeatures + " is too large (must be < 2^31)"
              : null);
    }

    @Override
    public Module toModule(SplittableRandom seeds) {
      boolean withBias = bias == null || bias;
      return seeds == null ? new dev.sparklinear.core.nn.Linear(inFeatures, outFeatures, withBias)
          : new dev.sparklinear.core.nn.Linear(inFeatures, outFeatures, withBias, seeds.nextLong());
    }

    @Override
    public Integer inWidth() {
      return inFeatures;
    }

    @Override
    public Integer outWidth() {
      return outFeatures;
    }
  }

  /** {@code nn.LayerNorm(normalized_shape, eps=1e-05, elementwise_affine=True, bias=True)} over each row. */
  record LayerNorm(Integer normalizedShape, Double eps, Boolean elementwiseAffine, Boolean bias) implements Layer {
    public LayerNorm {
      Values.check(normalizedShape == null ? "needs normalized-shape, e.g. {type: layer-norm, normalized-shape: 32}"
          : Values.positive("normalized-shape", normalizedShape));
    }

    @Override
    public Module toModule(SplittableRandom seeds) {
      return new dev.sparklinear.core.nn.LayerNorm(normalizedShape, eps == null ? 1e-5 : eps,
          elementwiseAffine == null || elementwiseAffine, bias == null || bias);
    }

    @Override
    public Integer inWidth() {
      return normalizedShape;
    }
  }

  /** {@code nn.BatchNorm1d(num_features, eps=1e-05, affine=True)} in evaluation mode, with its running statistics. */
  record BatchNorm1d(Integer numFeatures, Double eps, Boolean affine) implements Layer {
    public BatchNorm1d {
      Values.check(numFeatures == null ? "needs num-features, e.g. {type: batch-norm-1d, num-features: 32}"
          : Values.positive("num-features", numFeatures));
    }

    @Override
    public Module toModule(SplittableRandom seeds) {
      return new dev.sparklinear.core.nn.BatchNorm1d(numFeatures, eps == null ? 1e-5 : eps, 0.1,
          affine == null || affine, true);
    }

    @Override
    public Integer inWidth() {
      return numFeatures;
    }
  }

  /** GELU's {@code approximate} argument. */
  enum Approximate implements ConfigEnum { NONE, TANH }

  /** {@code nn.GELU(approximate='none')}. */
  record Gelu(Approximate approximate) implements Layer {
    @Override
    public Module toModule(SplittableRandom seeds) {
      return new dev.sparklinear.core.nn.GELU(approximate == null ? "none" : approximate.configValue());
    }
  }

  record Relu() implements Layer {}

  record Silu() implements Layer {}

  record Sigmoid() implements Layer {}

  record Tanh() implements Layer {}

  /** {@code nn.Softmax(dim)} over each row: {@code dim} -1 or 1, or left out as torch's {@code Softmax()}. */
  record Softmax(Integer dim) implements Layer {
    public Softmax {
      if (dim != null) {
        new dev.sparklinear.core.nn.Softmax(dim); // checks dim, in torch's words
      }
    }

    @Override
    public Module toModule(SplittableRandom seeds) {
      return dim == null ? new dev.sparklinear.core.nn.Softmax() : new dev.sparklinear.core.nn.Softmax(dim);
    }
  }

  /** {@code nn.Dropout(p=0.5)}: the identity in evaluation mode, which is how the job runs it. */
  record Dropout(Double p) implements Layer {
    public Dropout {
      if (p != null) {
        new dev.sparklinear.core.nn.Dropout(p); // checks p, in torch's words
      }
    }

    @Override
    public Module toModule(SplittableRandom seeds) {
      return p == null ? new dev.sparklinear.core.nn.Dropout() : new dev.sparklinear.core.nn.Dropout(p);
    }
  }

  record Identity() implements Layer {}

  /** The layers without arguments, and their modules. */
  Map<Class<? extends Layer>, Supplier<Module>> WITHOUT_ARGUMENTS = Map.of(Relu.class,
      dev.sparklinear.core.nn.ReLU::new, Silu.class, dev.sparklinear.core.nn.SiLU::new, Sigmoid.class,
      dev.sparklinear.core.nn.Sigmoid::new, Tanh.class, dev.sparklinear.core.nn.Tanh::new, Identity.class,
      dev.sparklinear.core.nn.Identity::new);

  /**
   * A new module for this layer, initialised as torch initialises it.
   *
   * @param seeds where a layer with random parameters takes its seed from; null for the JVM-wide sequence
   */
  default Module toModule(SplittableRandom seeds) {
    return WITHOUT_ARGUMENTS.get(getClass()).get();
  }

  /** The width of the vectors this layer takes; null for a layer that keeps any width (activations, dropout). */
  default Integer inWidth() {
    return null;
  }

  /** The width of the vectors this layer gives; null when it gives the width it was given. */
  default Integer outWidth() {
    return inWidth();
  }

  /**
   * {@code layers} as torch's {@code nn.Sequential}, in evaluation mode. With {@code initSeed}, each layer with
   * random parameters takes the next seed of a generator seeded with it, so a seed always gives the same tree (not
   * the values torch would draw: its generator is not reproduced); without it, they come from the JVM-wide sequence.
   */
  static Sequential sequential(List<Layer> layers, Long initSeed) {
    SplittableRandom seeds = initSeed == null ? null : new SplittableRandom(initSeed);
    Sequential tree = new Sequential(layers.stream().map(layer -> layer.toModule(seeds)).toList());
    tree.eval();
    return tree;
  }
}
