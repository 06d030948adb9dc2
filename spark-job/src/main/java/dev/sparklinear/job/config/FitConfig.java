package dev.sparklinear.job.config;

import java.io.Serializable;

/**
 * {@code fit}: what {@code spark-linear fit} trains the module on and how. Absent (null) when the config has no
 * {@code fit} section; {@code spark-linear run} ignores it.
 */
public record FitConfig(
    @Key(doc = "The input column holding each row's label: for `mse` and `bce-with-logits` a number (a module with"
        + " one output) or an array of `out_features` numbers; for `cross-entropy` an integer class index in"
        + " `[0, out_features)`. A null, NaN or out-of-range label, or an array of another width, makes the row"
        + " invalid (see `invalid-rows`).", expect = "a non-empty string", required = "yes") String labelColumn,
    @Key(doc = "The loss minimised, as torch's with `reduction='mean'` over all valid rows: `mse` (`nn.MSELoss`),"
        + " `bce-with-logits` (`nn.BCEWithLogitsLoss`) or `cross-entropy` (`nn.CrossEntropyLoss`, on logits).",
        required = "yes") FitLoss loss,
    @Key(doc = "The optimizer, as `torch.optim`'s, with torch's arguments in kebab case and torch's defaults:"
        + " `{type: sgd, lr: 0.05, momentum: 0.9, dampening: 0.0, weight-decay: 0.0, nesterov: false}` (lr"
        + " required), `{type: adam, lr: 0.001, betas: [0.9, 0.999], eps: 1.0e-8, weight-decay: 0.0, amsgrad:"
        + " false}`, or `{type: adamw, ...}` as adam with weight-decay 0.01 by default.",
        expect = OptimizerConfig.EXPECT, required = "yes") OptimizerConfig optimizer,
    @Key(doc = "How many epochs (passes over the data) to train; with `fit.resume-from`, how many more.",
        expect = "a positive integer", required = "yes") Integer epochs,
    @Key(doc = "How many rows an optimizer step sees: `full` takes one step per epoch on the gradient of the mean"
        + " loss over every valid row.", defaultYaml = "full") FitBatch batch,
    @Key(doc = "The output folder of an earlier fit to continue from: its `model.safetensors` replaces"
        + " `module.weights` and its `optimizer.safetensors` restores the optimizer's state (the optimizer type must"
        + " be the same), so that 3 epochs then 2 more give the same parameters as 5 epochs.",
        expect = "a non-empty string") String resumeFrom) implements Serializable {
  public FitConfig {
    Values.notBlank(labelColumn);
    Values.positive(epochs);
    Values.notBlank(resumeFrom);
  }
}
