/**
 * Entry points: {@link org.longctx.jobs.Cli} ({@code bin/longctx}) and one {@code XxxJob} main
 * per subcommand, each also usable as {@code spark-submit --class}.
 */
package org.longctx.jobs;
