package org.longctx.jobs.config;

import org.longctx.data.DataConfig;
import org.longctx.positional.RopeConfig;
import org.longctx.search.SearchConfig;
import org.longctx.trainer.EvalConfig;
import org.longctx.trainer.FotConfig;
import org.longctx.trainer.ModelConfig;
import org.longctx.trainer.PoseConfig;
import org.longctx.trainer.TrainConfig;
import org.longctx.trainer.distributed.DistributedConfig;

/**
 * One experiment, as written in a YAML file under {@code configs/}. Each section is the
 * immutable record of the module it configures; {@link ConfigLoader} fills what the file
 * leaves out from {@link #defaults()}.
 *
 * @param name names the run; the default output folder is {@code runs/<name>}
 * @param rope null keeps the rope scaling in the model's {@code config.json}
 * @param pose the pose recipe's keys
 * @param fot the fot recipe's keys (Focused Transformer)
 * @param distributed data-parallel training across Spark executors (docs/distributed.md)
 * @param search LongRoPE's factor search ({@code longctx search})
 * @param longrope LongRoPE's progressive recipe ({@code longctx longrope})
 */
public record ExperimentConfig(
    String name,
    SparkSettings spark,
    DataConfig data,
    ModelConfig model,
    RopeConfig rope,
    TrainConfig train,
    PoseConfig pose,
    FotConfig fot,
    DistributedConfig distributed,
    EvalConfig eval,
    SearchConfig search,
    LongRopeConfig longrope,
    OutputConfig output) {

  public ExperimentConfig {
    if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]*")) {
      throw new IllegalArgumentException("name: must be letters, digits, '.', '_' or '-' (it names the output folder), got '" + name + "'");
    }
  }

  public static ExperimentConfig defaults() {
    return new ExperimentConfig(
        "experiment",
        SparkSettings.defaults(),
        DataConfig.defaults(),
        ModelConfig.defaults(),
        null,
        TrainConfig.defaults(),
        PoseConfig.defaults(),
        FotConfig.defaults(),
        DistributedConfig.defaults(),
        EvalConfig.defaults(),
        SearchConfig.defaults(),
        LongRopeConfig.defaults(),
        OutputConfig.defaults());
  }
}
