/**
 * YAML experiment configs: the top-level record, the sections owned by this module, and the
 * loader that validates keys, types and ranges with messages that name the key.
 */
package org.longctx.jobs.config;
