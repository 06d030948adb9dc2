/**
 * Integration tests ({@code *IT}, run by failsafe in {@code mvn verify} after {@code package}): the packaged job run
 * through spark-submit, in local mode and on a standalone cluster of separate JVMs on the loopback address.
 */
package dev.sparklinear.it;
