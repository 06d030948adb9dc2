/**
 * The job configuration: {@link dev.sparklinear.job.config.JobConfig}, read from a YAML file plus {@code --set}
 * overrides over documented defaults, with every key listed once in {@link dev.sparklinear.job.config.ConfigKey}.
 */
package dev.sparklinear.job.config;
