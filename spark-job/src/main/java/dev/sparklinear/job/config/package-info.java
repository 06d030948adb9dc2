/**
 * The job configuration: {@link dev.sparklinear.job.config.JobConfig}, a record of section records bound by Jackson
 * from a YAML file plus {@code --set} overrides, each key declared, typed and documented once on its record component.
 */
package dev.sparklinear.job.config;
