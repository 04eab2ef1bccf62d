/**
 * The prepare job: raw Pile / RedPajama shards to tokenized Arrow shards. The driver
 * ({@link org.longctx.data.prepare.PreparePipeline}) plans, dedups and commits; each Spark
 * task runs a {@link org.longctx.data.prepare.ShardProcessor} over one input file; every
 * record not kept is counted by {@link org.longctx.data.prepare.Reason}, and bad input is
 * written to {@code rejects/} by a {@link org.longctx.data.prepare.RejectSink}.
 */
package org.longctx.data.prepare;
