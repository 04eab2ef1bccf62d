package org.longctx.trainer.distributed;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A ring of {@code N} processes over TCP, for data-parallel training: bucketed ring all-reduce
 * (reduce-scatter, then all-gather) of float32 buffers, all-gather of small byte messages, and a
 * barrier. Engine-free: it moves bytes between {@link ByteBuffer}s with plain {@code java.nio}
 * sockets.
 *
 * <p>Rank {@code r} sends only to {@code r + 1} and receives only from {@code r − 1} (mod N), so
 * an all-reduce of {@code B} bytes sends {@code 2 (N − 1) / N · B} bytes per rank, whatever N
 * is: the bandwidth-optimal schedule. Sending and receiving run at the same time on
 * non-blocking channels (one selector), so no step can deadlock on full socket buffers.
 *
 * <p>Security: every connection starts with a mutual challenge–response over HMAC-SHA256 keyed
 * by the job's secret (made on the driver, shipped to the tasks in the closure); a peer that
 * does not prove it knows the secret is refused, logged, and the ring keeps waiting for the
 * real neighbour. The data itself is not encrypted (gradients are not secrets worth the cost;
 * run the cluster on a private network as Spark itself requires).
 *
 * <p>Failure: every wait has the configured timeout. A peer that dies closes its sockets (the
 * step fails at once with "closed the connection"); a peer that stops answering fails the step
 * after {@code timeout} without any byte moving. Either way the exception ends the Spark task,
 * and Spark retries the barrier stage, which resumes from the latest checkpoint.
 *
 * <p>Not thread-safe: one thread (the training loop) calls it.
 */
public final class Ring implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Ring.class);
  static final int MAGIC = 0x4C435852; // "LCXR"
  static final int VERSION = 1;
  static final int NONCE_BYTES = 32;
  private static final int SOCKET_BUFFER = 4 << 20;
  /** The longest a connection that is not the neighbour may hold the accept loop. */
  private static final Duration HANDSHAKE_LIMIT = Duration.ofSeconds(10);

  private final int rank;
  private final int worldSize;
  private final Duration timeout;
  private final int bucketFloats;
  private final SocketChannel right; // we send to rank + 1
  private final SocketChannel left;  // we receive from rank − 1
  private final Selector selector;
  private final SelectionKey rightKey;
  private final SelectionKey leftKey;
  private final List<String> refusals;
  private ByteBuffer scratch;
  private float[] sumA = new float[0];
  private float[] sumB = new float[0];
  private long bytesSent;
  private long communicationNanos;

  private Ring(int rank, int worldSize, Duration timeout, int bucketBytes, SocketChannel right, SocketChannel left,
      List<String> refusals) throws IOException {
    this.rank = rank;
    this.worldSize = worldSize;
    this.timeout = timeout;
    this.bucketFloats = Math.max(worldSize, bucketBytes / Float.BYTES);
    this.right = right;
    this.left = left;
    this.refusals = List.copyOf(refusals);
    if (worldSize > 1) {
      selector = Selector.open();
      right.configureBlocking(false);
      left.configureBlocking(false);
      rightKey = right.register(selector, 0);
      leftKey = left.register(selector, 0);
    } else {
      selector = null;
      rightKey = null;
      leftKey = null;
    }
  }

  /** A ring of one: every operation returns its input. */
  public static Ring single() {
    try {
      return new Ring(0, 1, Duration.ofSeconds(1), 1 << 20, null, null, List.of());
    } catch (IOException e) {
      throw new IllegalStateException(e); // nothing is opened for one rank
    }
  }

  /** A listening socket on {@code host} ({@code port} 0: any free port), to announce before {@link #connect}. */
  public static ServerSocketChannel listen(String host, int port) throws IOException {
    ServerSocketChannel server = ServerSocketChannel.open();
    try {
      server.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER);
      server.bind(new InetSocketAddress(host, port), 16);
      return server;
    } catch (IOException e) {
      server.close();
      throw new IOException("ring: cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
    }
  }

  /** A new random secret for one job (32 bytes from {@link SecureRandom}). */
  public static byte[] newSecret() {
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    return secret;
  }

  /** The ring of a run with one replica: no neighbour, every exchange returns this rank's own data. */
  public static Ring alone(Duration timeout, int bucketBytes) throws IOException {
    return new Ring(0, 1, timeout, bucketBytes, null, null, List.of());
  }

  /**
   * Joins the ring: connects to rank {@code rank + 1}'s address and accepts rank
   * {@code rank − 1} on {@code listener} (both at once, so no rank waits for another to finish
   * first), each side proving it knows {@code secret}. Closes {@code listener} when done.
   *
   * @param addresses every rank's listening address, by rank (from the rendezvous)
   * @param timeout how long to wait for a neighbour, here and in every later exchange
   * @param bucketBytes all-reduce bucket size
   */
  public static Ring connect(int rank, List<InetSocketAddress> addresses, ServerSocketChannel listener, byte[] secret,
      Duration timeout, int bucketBytes) throws IOException {
    int n = addresses.size();
    if (rank < 0 || rank >= n) {
      throw new IllegalArgumentException("ring: rank " + rank + " is not in [0, " + n + ")");
    }
    if (secret == null || secret.length < 16) {
      throw new IllegalArgumentException("ring: the job secret must have at least 16 bytes");
    }
    if (n == 1) {
      listener.close();
      return alone(timeout, bucketBytes);
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    int leftRank = (rank - 1 + n) % n;
    int rightRank = (rank + 1) % n;
    List<String> refused = new CopyOnWriteArrayList<>();
    CompletableFuture<SocketChannel> accepted = new CompletableFuture<>();
    Thread acceptor = new Thread(() -> {
      try {
        accepted.complete(acceptNeighbour(listener, rank, n, leftRank, secret, deadline, refused));
      } catch (Throwable t) {
        accepted.completeExceptionally(t);
      }
    }, "ring-accept-" + rank);
    acceptor.setDaemon(true);
    acceptor.start();
    SocketChannel right = null;
    try {
      right = connectNeighbour(addresses.get(rightRank), rank, n, rightRank, secret, deadline);
      SocketChannel left;
      try {
        left = accepted.get(Math.max(1, deadline - System.nanoTime()) + TimeUnit.SECONDS.toNanos(1), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        throw new SocketTimeoutException("ring rank " + rank + ": rank " + leftRank + " did not connect within " + timeout.toSeconds()
            + " s (distributed.timeout_s)");
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        throw cause instanceof IOException io ? io : new IOException("ring rank " + rank + ": " + cause.getMessage(), cause);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("ring rank " + rank + ": interrupted while joining");
      }
      LOG.info("ring rank {} of {}: connected (sends to {}, receives from {})", rank, n, addresses.get(rightRank),
          left.getRemoteAddress());
      return new Ring(rank, n, timeout, bucketBytes, right, left, refused);
    } catch (IOException | RuntimeException e) {
      closeQuietly(right);
      listener.close(); // ends the accept loop
      accepted.thenAccept(Ring::closeQuietly);
      throw e;
    } finally {
      listener.close();
    }
  }

  /**
   * {@code n} ranks of one ring in this JVM on loopback, joined by threads of {@code pool} (each
   * join waits for its neighbours, so they must run at once): for benchmarks and tests.
   */
  public static List<Ring> loopback(int n, byte[] secret, Duration timeout, int bucketBytes, ExecutorService pool) throws IOException {
    List<ServerSocketChannel> listeners = new java.util.ArrayList<>();
    List<InetSocketAddress> addresses = new java.util.ArrayList<>();
    List<java.util.concurrent.Future<Ring>> joins = new java.util.ArrayList<>();
    List<Ring> rings = new java.util.ArrayList<>();
    try {
      for (int r = 0; r < n; r++) {
        ServerSocketChannel s = listen("127.0.0.1", 0);
        listeners.add(s);
        addresses.add((InetSocketAddress) s.getLocalAddress());
      }
      for (int r = 0; r < n; r++) {
        int rank = r;
        joins.add(pool.submit(() -> connect(rank, addresses, listeners.get(rank), secret, timeout, bucketBytes)));
      }
      for (java.util.concurrent.Future<Ring> f : joins) {
        rings.add(f.get());
      }
      return rings;
    } catch (ExecutionException e) {
      rings.forEach(Ring::close);
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      rings.forEach(Ring::close);
      throw new InterruptedIOException("interrupted while joining a loopback ring");
    } finally {
      for (ServerSocketChannel s : listeners) {
        closeQuietly(s);
      }
    }
  }

  private static SocketChannel connectNeighbour(InetSocketAddress address, int rank, int n, int rightRank, byte[] secret,
      long deadline) throws IOException {
    IOException last = null;
    while (System.nanoTime() < deadline) {
      SocketChannel ch = SocketChannel.open();
      try {
        configure(ch);
        ch.socket().connect(address, (int) Math.max(1, Math.min(5_000, (deadline - System.nanoTime()) / 1_000_000)));
        ch.socket().setSoTimeout((int) Math.max(1, Math.min(HANDSHAKE_LIMIT.toMillis(), (deadline - System.nanoTime()) / 1_000_000)));
        DataOutputStream out = new DataOutputStream(ch.socket().getOutputStream());
        DataInputStream in = new DataInputStream(ch.socket().getInputStream());
        byte[] myNonce = nonce();
        out.writeInt(MAGIC);
        out.writeInt(VERSION);
        out.writeInt(rank);
        out.writeInt(n);
        out.write(myNonce);
        out.flush();
        byte[] theirNonce = new byte[NONCE_BYTES];
        in.readFully(theirNonce);
        byte[] theirProof = new byte[32];
        in.readFully(theirProof);
        if (!MessageDigest.isEqual(theirProof, proof(secret, 'A', myNonce, theirNonce, rank, n))) {
          throw new IOException("ring rank " + rank + ": the process at " + address + " (expected rank " + rightRank
              + ") does not know the job's secret; refusing to send it gradients");
        }
        out.write(proof(secret, 'C', theirNonce, myNonce, rank, n));
        out.flush();
        if (in.readByte() != 1) {
          throw new IOException("ring rank " + rank + ": rank " + rightRank + " at " + address + " refused the connection");
        }
        ch.socket().setSoTimeout(0);
        return ch;
      } catch (java.net.ConnectException e) {
        closeQuietly(ch);
        last = e;
        sleep(200);
      } catch (IOException e) {
        closeQuietly(ch);
        throw e instanceof EOFException ? new IOException("ring rank " + rank + ": rank " + rightRank + " at " + address
            + " closed the connection during the handshake (a different job, or the secret did not match)", e) : e;
      }
    }
    throw new SocketTimeoutException("ring rank " + rank + ": could not reach rank " + rightRank + " at " + address + " within the timeout"
        + (last == null ? "" : " (" + last.getMessage() + ")"));
  }

  /** Accepts connections until one proves it is rank {@code leftRank} of this job; refuses (and logs) every other. */
  private static SocketChannel acceptNeighbour(ServerSocketChannel listener, int rank, int n, int leftRank, byte[] secret, long deadline,
      List<String> refused) throws IOException {
    listener.socket().setSoTimeout(0);
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new SocketTimeoutException("ring rank " + rank + ": rank " + leftRank + " did not connect within the timeout");
      }
      listener.socket().setSoTimeout((int) Math.max(1, left / 1_000_000));
      SocketChannel ch;
      try {
        ch = listener.socket().accept().getChannel();
      } catch (SocketTimeoutException e) {
        continue; // the loop head reports the timeout
      }
      SocketAddress from = ch.getRemoteAddress();
      try {
        configure(ch);
        ch.socket().setSoTimeout((int) Math.max(1, Math.min(HANDSHAKE_LIMIT.toMillis(), (deadline - System.nanoTime()) / 1_000_000)));
        DataInputStream in = new DataInputStream(ch.socket().getInputStream());
        DataOutputStream out = new DataOutputStream(ch.socket().getOutputStream());
        int magic = in.readInt();
        if (magic != MAGIC) {
          throw new RefusedException("it did not start with the ring's greeting");
        }
        int version = in.readInt();
        int peerRank = in.readInt();
        int peerWorld = in.readInt();
        if (version != VERSION) {
          throw new RefusedException("it speaks ring protocol version " + version + ", this one " + VERSION);
        }
        byte[] theirNonce = new byte[NONCE_BYTES];
        in.readFully(theirNonce);
        byte[] myNonce = nonce();
        out.write(myNonce);
        out.write(proof(secret, 'A', theirNonce, myNonce, peerRank, peerWorld));
        out.flush();
        byte[] theirProof = new byte[32];
        in.readFully(theirProof);
        if (!MessageDigest.isEqual(theirProof, proof(secret, 'C', myNonce, theirNonce, peerRank, peerWorld))) {
          throw new RefusedException("it does not know the job's secret");
        }
        if (peerRank != leftRank || peerWorld != n) {
          throw new RefusedException("it is rank " + peerRank + " of " + peerWorld + ", expected rank " + leftRank + " of " + n);
        }
        out.writeByte(1);
        out.flush();
        ch.socket().setSoTimeout(0);
        return ch;
      } catch (RefusedException | IOException e) {
        String line = "ring rank " + rank + ": refused a connection from " + from + ": "
            + (e instanceof RefusedException ? e.getMessage() : "handshake failed (" + e + ")");
        refused.add(line);
        LOG.warn(line);
        closeQuietly(ch);
      }
    }
  }

  /** A handshake that failed on the peer's side: refuse it, keep waiting for the neighbour. */
  private static final class RefusedException extends Exception {
    RefusedException(String message) {
      super(message);
    }
  }

  private static void configure(SocketChannel ch) throws IOException {
    ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
    ch.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER);
    ch.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER);
    ch.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
  }

  private static byte[] nonce() {
    byte[] b = new byte[NONCE_BYTES];
    new SecureRandom().nextBytes(b);
    return b;
  }

  /** HMAC-SHA256(secret, role ‖ challenge ‖ response nonce ‖ connector's rank ‖ world size). */
  private static byte[] proof(byte[] secret, char role, byte[] challenge, byte[] otherNonce, int connectorRank, int world) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret, "HmacSHA256"));
      mac.update((byte) role);
      mac.update(challenge);
      mac.update(otherNonce);
      mac.update(ByteBuffer.allocate(8).putInt(connectorRank).putInt(world).array());
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }

  public int rank() {
    return rank;
  }

  public int worldSize() {
    return worldSize;
  }

  /** The lines logged for connections refused while joining (a wrong secret, a wrong rank, not a ring peer). */
  public List<String> refusals() {
    return refusals;
  }

  /** Bytes this rank has sent so far. */
  public long bytesSent() {
    return bytesSent;
  }

  /** Time spent inside ring operations so far (waiting for peers included). */
  public Duration communicationTime() {
    return Duration.ofNanos(communicationNanos);
  }

  /**
   * Replaces {@code floats} (native byte order, position to limit, a whole number of float32)
   * by the element-wise sum over the ranks, divided by {@code divisor}. Every rank ends with
   * the same bits: each element is summed once, by the rank that owns its chunk, in ring order,
   * then copied to the others.
   */
  public void allReduce(ByteBuffer floats, float divisor) throws IOException {
    if (floats.remaining() % Float.BYTES != 0) {
      throw new IllegalArgumentException("ring: " + floats.remaining() + " bytes is not a whole number of float32");
    }
    if (floats.order() != ByteOrder.nativeOrder()) {
      throw new IllegalArgumentException("ring: the buffer must be in native byte order");
    }
    long start = System.nanoTime();
    try {
      int total = floats.remaining() / Float.BYTES;
      int base = floats.position();
      if (worldSize == 1) {
        if (divisor != 1f) {
          divide(floats.slice(base, total * Float.BYTES).order(ByteOrder.nativeOrder()), divisor);
        }
        return;
      }
      for (int b = 0; b < total; b += bucketFloats) {
        int count = Math.min(bucketFloats, total - b);
        allReduceBucket(floats.slice(base + b * Float.BYTES, count * Float.BYTES).order(ByteOrder.nativeOrder()), count, divisor);
      }
    } finally {
      communicationNanos += System.nanoTime() - start;
    }
  }

  /** Ring all-reduce of one bucket of {@code count} floats (a buffer of exactly those). */
  private void allReduceBucket(ByteBuffer bucket, int count, float divisor) throws IOException {
    int n = worldSize;
    int largest = (count + n - 1) / n;
    if (scratch == null || scratch.capacity() < largest * Float.BYTES) {
      scratch = ByteBuffer.allocateDirect(largest * Float.BYTES).order(ByteOrder.nativeOrder());
      sumA = new float[largest];
      sumB = new float[largest];
    }
    // reduce-scatter: after n − 1 steps this rank holds the full sum of chunk (rank + 1) mod n
    for (int s = 0; s < n - 1; s++) {
      int sendChunk = Math.floorMod(rank - s, n);
      int recvChunk = Math.floorMod(rank - s - 1, n);
      ByteBuffer out = chunk(bucket, count, sendChunk);
      ByteBuffer in = scratch.clear().limit(chunkLength(count, recvChunk) * Float.BYTES);
      exchange(out, in);
      in.flip();
      ByteBuffer target = chunk(bucket, count, recvChunk);
      add(target, in, s == n - 2 ? divisor : 1f);
    }
    // all-gather: pass the summed chunks around the ring, each straight into place
    for (int s = 0; s < n - 1; s++) {
      int sendChunk = Math.floorMod(rank + 1 - s, n);
      int recvChunk = Math.floorMod(rank - s, n);
      exchange(chunk(bucket, count, sendChunk), chunk(bucket, count, recvChunk));
    }
  }

  private int chunkStart(int count, int c) {
    // the first count % n chunks get one float more
    int base = count / worldSize;
    int extra = count % worldSize;
    return c * base + Math.min(c, extra);
  }

  private int chunkLength(int count, int c) {
    return count / worldSize + (c < count % worldSize ? 1 : 0);
  }

  private ByteBuffer chunk(ByteBuffer bucket, int count, int c) {
    return bucket.slice(chunkStart(count, c) * Float.BYTES, chunkLength(count, c) * Float.BYTES).order(ByteOrder.nativeOrder());
  }

  /** {@code target += received}, then {@code / divisor} when it is not 1; bulk copies through arrays so the JIT vectorises the sum. */
  private void add(ByteBuffer target, ByteBuffer received, float divisor) {
    FloatBuffer t = target.asFloatBuffer();
    FloatBuffer r = received.asFloatBuffer();
    int len = t.remaining();
    float[] a = sumA;
    float[] b = sumB;
    t.get(0, a, 0, len);
    r.get(0, b, 0, len);
    if (divisor == 1f) {
      for (int i = 0; i < len; i++) {
        a[i] += b[i];
      }
    } else {
      for (int i = 0; i < len; i++) {
        a[i] = (a[i] + b[i]) / divisor;
      }
    }
    t.put(0, a, 0, len);
  }

  private static void divide(ByteBuffer floats, float divisor) {
    FloatBuffer f = floats.asFloatBuffer();
    for (int i = 0; i < f.limit(); i++) {
      f.put(i, f.get(i) / divisor);
    }
  }

  /**
   * Every rank's {@code item}, by rank (the same list on every rank). For small messages
   * (data cursors, losses): it passes each item once around the ring.
   */
  public List<byte[]> allGather(byte[] item) throws IOException {
    long start = System.nanoTime();
    try {
      byte[][] items = new byte[worldSize][];
      items[rank] = item.clone();
      for (int s = 0; s < worldSize - 1; s++) {
        int sendFrom = Math.floorMod(rank - s, worldSize);
        int recvFrom = Math.floorMod(rank - s - 1, worldSize);
        ByteBuffer lengthOut = ByteBuffer.allocate(4).putInt(0, items[sendFrom].length);
        ByteBuffer lengthIn = ByteBuffer.allocate(4);
        exchange(lengthOut, lengthIn);
        int length = lengthIn.getInt(0);
        if (length < 0 || length > (64 << 20)) {
          throw new IOException("ring rank " + rank + ": rank " + recvFrom + " announced a message of " + length + " bytes");
        }
        items[recvFrom] = new byte[length];
        exchange(ByteBuffer.wrap(items[sendFrom]), ByteBuffer.wrap(items[recvFrom]));
      }
      return List.of(items);
    } finally {
      communicationNanos += System.nanoTime() - start;
    }
  }

  /** Returns once every rank has called it. */
  public void barrier() throws IOException {
    allGather(new byte[0]);
  }

  /**
   * Sends {@code out} to the right neighbour while receiving exactly {@code in.remaining()}
   * bytes from the left one. Fails when the left one closes the connection, or when nothing
   * moves either way for the timeout.
   */
  private void exchange(ByteBuffer out, ByteBuffer in) throws IOException {
    long timeoutNanos = timeout.toNanos();
    long lastProgress = System.nanoTime();
    while (out.hasRemaining() || in.hasRemaining()) {
      boolean progress = false;
      if (out.hasRemaining()) {
        int w = right.write(out);
        bytesSent += w;
        progress |= w > 0;
      }
      if (in.hasRemaining()) {
        int r = left.read(in);
        if (r < 0) {
          throw new EOFException("ring rank " + rank + ": rank " + Math.floorMod(rank - 1, worldSize)
              + " closed the connection (its task died or was killed)");
        }
        progress |= r > 0;
      }
      long now = System.nanoTime();
      if (progress) {
        lastProgress = now;
        continue;
      }
      long waited = now - lastProgress;
      if (waited >= timeoutNanos) {
        throw new SocketTimeoutException("ring rank " + rank + ": no bytes moved for " + timeout.toSeconds() + " s ("
            + (in.hasRemaining() ? "rank " + Math.floorMod(rank - 1, worldSize) + " sent nothing" : "rank " + (rank + 1) % worldSize
            + " read nothing") + "); distributed.timeout_s is " + timeout.toSeconds() + " s");
      }
      rightKey.interestOps(out.hasRemaining() ? SelectionKey.OP_WRITE : 0);
      leftKey.interestOps(in.hasRemaining() ? SelectionKey.OP_READ : 0);
      selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos - waited)));
      selector.selectedKeys().clear();
      if (Thread.interrupted()) {
        throw new InterruptedIOException("ring rank " + rank + ": interrupted (the task was killed)");
      }
    }
  }

  private static void sleep(long millis) throws InterruptedIOException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("ring: interrupted while connecting");
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c != null) {
      try {
        c.close();
      } catch (Exception e) {
        // closing after a failure: the failure is what gets reported
      }
    }
  }

  @Override
  public void close() {
    closeQuietly(selector);
    closeQuietly(right);
    closeQuietly(left);
  }
}
