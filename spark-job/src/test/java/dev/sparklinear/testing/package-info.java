/**
 * Test support: a shared local Spark session for tests in this JVM, and Spark run as separate JVMs (spark-submit, a
 * standalone master and worker) from the Maven jars for the integration tests, and a commit protocol that records
 * what it committed.
 */
package dev.sparklinear.testing;
