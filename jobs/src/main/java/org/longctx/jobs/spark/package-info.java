/** Spark wiring shared by every job: session construction, Kryo registration, JDK flags. */
package org.longctx.jobs.spark;
