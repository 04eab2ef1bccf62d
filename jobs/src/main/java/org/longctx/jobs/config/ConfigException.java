package org.longctx.jobs.config;

/**
 * An experiment config that cannot be used: unknown key, wrong type, value out of range or an
 * unreadable file. The message names the key, the value and what is allowed.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
