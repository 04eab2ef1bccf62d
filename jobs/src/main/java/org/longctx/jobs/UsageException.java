package org.longctx.jobs;

/** A bad command line: the message is the one-line reason shown to the user. */
public final class UsageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UsageException(String message) {
    super(message);
  }
}
