package org.longctx.trainer.recipes;

import java.io.IOException;
import java.net.URI;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.util.Progressable;

/**
 * {@code remotetest:/abs/path}: the local disk under a scheme that is not {@code file}, so code
 * that treats local and remote output differently takes its remote branch; like an object store
 * (S3A, GCS) it cannot append. Registered for the tests in {@code core-site.xml}.
 */
public class RemoteTestFileSystem extends RawLocalFileSystem {
  static final String SCHEME = "remotetest";

  @Override
  public URI getUri() {
    return URI.create(SCHEME + ":///");
  }

  @Override
  public String getScheme() {
    return SCHEME;
  }

  @Override
  public FSDataOutputStream append(Path f, int bufferSize, Progressable progress) throws IOException {
    throw new UnsupportedOperationException(SCHEME + ": append is not supported (as on an object store)");
  }
}
