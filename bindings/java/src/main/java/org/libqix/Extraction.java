package org.libqix;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * One bulk extraction of a hypercube's rows ({@code qix_object_extract}), read as an {@link Iterator} or a
 * {@link #stream() Stream}: made by {@link QixObject#extract(String, int, int, int, Function)} (rows as JSON
 * text, or whatever its decoder makes of them) or, typed, by {@code cube.extract(...)} of {@link
 * org.libqix.api.ApiObject} (rows as {@code List<NxCell>}).
 *
 * <p><b>Back-pressure.</b> libqix delivers the rows, in order, on the session's event thread; they wait here in
 * a buffer of {@code bufferRows} rows until the consumer takes them. When the buffer is full the event thread
 * blocks until the consumer takes one: that stalls this session's event delivery (its other listeners and
 * call completions wait too; other sessions are not affected), and the extraction's {@code window} bounds the
 * pages in flight meanwhile. So memory stays bounded by {@code bufferRows} rows plus {@code window} pages
 * however slow the consumer is.
 *
 * <p><b>Stopping.</b> {@link #close()} (or closing the {@link #stream()}) stops the extraction: the row
 * callback returns "stop", libqix cancels the GetHyperCubeData calls still in flight, and {@code close()}
 * waits until libqix has ended the extraction (not on an event thread, where it returns at once). Always
 * close it (try-with-resources): an extraction that is neither read to its end nor closed keeps the
 * session's event thread blocked once its buffer is full (a short-circuiting stream operation such as {@code
 * findFirst} or {@code limit} stops reading, not the extraction). {@link Session#close()} ends every
 * extraction of the session: the reader then gets {@link QixException.Code#CLOSED}.
 *
 * <p><b>Errors.</b> The error that ended the extraction (a bad path: {@link
 * QixException.Code#INVALID_ARGUMENT}; an engine error of a page; {@code CLOSED}, {@code CONNECTION_LOST}) is
 * thrown by {@link #hasNext()} / {@link #next()} (and so by the stream's terminal operation) once the rows
 * before it were read.
 *
 * <p><b>Threads.</b> Read it from one thread at a time, not from a libqix event thread (there a read that
 * would wait fails with {@link QixException.Code#BUSY}); {@link #close()} may be called from any thread.
 *
 * @param <T> the type of a row
 */
public final class Extraction<T> implements Iterator<T>, AutoCloseable {
  /** The buffer of {@code extract} methods that take none: rows held for the reader at most. */
  public static final int DEFAULT_BUFFER_ROWS = 256;

  private final Session session;
  private final Function<String, ? extends T> decoder;
  private final int capacity;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition notEmpty = lock.newCondition(); // a row arrived, or the end
  private final Condition notFull = lock.newCondition(); // a row was taken, or stopping
  private final Condition ended = lock.newCondition(); // the end
  private final ArrayDeque<String> rows = new ArrayDeque<>(); // guarded by lock
  private boolean stopped; // guarded by lock: close() ran
  private QixException abort; // guarded by lock: the session is closing; the reader gets this
  private boolean done; // guarded by lock: the end arrived
  private QixException error; // guarded by lock: what ended it, when not every row
  private long rowCount; // guarded by lock: rows of the end
  private long received; // guarded by lock: rows put into the buffer
  private long token;

  Extraction(Session session, int bufferRows, Function<String, ? extends T> decoder) {
    this.session = session;
    this.capacity = bufferRows;
    this.decoder = decoder;
  }

  void setToken(long token) {
    this.token = token;
  }

  long token() {
    return token;
  }

  // ---------------------------------------------------------------------------------------------- producer

  /** A row, on the event thread: waits while the buffer is full; false to stop the extraction. */
  boolean offer(String row) {
    lock.lock();
    try {
      if (!stopped && abort == null && rows.size() >= capacity) {
        // About to wait for the consumer: on libqix's I/O thread (events.inline), another thread reads the
        // sockets meanwhile, so the context's other sessions go on; this session's rows stay in order.
        QixNative.ioStepAside();
        while (!stopped && abort == null && rows.size() >= capacity) {
          notFull.awaitUninterruptibly();
        }
      }
      if (stopped || abort != null) {
        return false;
      }
      rows.addLast(row);
      received++;
      notEmpty.signal();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** The end (once; later ones are ignored): {@code failure} null when every row was delivered. */
  void finish(long count, QixException failure) {
    lock.lock();
    try {
      if (done) {
        return;
      }
      done = true;
      rowCount = count;
      error = abort != null ? abort : failure;
      notEmpty.signalAll();
      notFull.signalAll();
      ended.signalAll();
    } finally {
      lock.unlock();
    }
    session.untrack(this);
  }

  /** The session is closing: wakes the event thread if it waits here, and ends the reader with {@code e}. */
  void abort(QixException e) {
    lock.lock();
    try {
      if (abort == null && !done) {
        abort = e;
      }
      notFull.signalAll();
      notEmpty.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Rows put into the buffer so far (for tests: the buffer bounds {@code received - taken}). */
  long received() {
    lock.lock();
    try {
      return received;
    } finally {
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------------------------------------- reader

  /**
   * True when another row follows; waits for it (or for the end).
   *
   * @throws QixException the error that ended the extraction, once the rows before it were read; {@link
   *     QixException.Code#BUSY} on a libqix event thread; {@link QixException.Code#CANCELLED} when the
   *     waiting thread is interrupted (the extraction is then closed, and the interrupt status kept)
   */
  @Override
  public boolean hasNext() {
    lock.lock();
    try {
      while (rows.isEmpty() && !done && !stopped && abort == null) {
        if (Dispatch.inCallback()) {
          throw new QixException(QixException.Code.BUSY,
              "reading an extraction on a libqix event thread would wait for that thread");
        }
        try {
          notEmpty.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          close(); // the lock is reentrant; close() waits with it released
          throw new QixException(QixException.Code.CANCELLED, "interrupted while reading an extraction");
        }
      }
      if (!rows.isEmpty()) {
        return true;
      }
      if (stopped) {
        return false;
      }
      QixException e = abort != null ? abort : error;
      if (e != null) {
        throw e;
      }
      return false;
    } finally {
      lock.unlock();
    }
  }

  /**
   * The next row, decoded (on the calling thread).
   *
   * @throws NoSuchElementException after the last row, or after {@link #close()}
   * @throws QixException as {@link #hasNext()}
   */
  @Override
  public T next() {
    String row;
    lock.lock();
    try {
      if (!hasNext()) {
        throw new NoSuchElementException("no more rows");
      }
      row = rows.pollFirst();
      notFull.signal();
    } finally {
      lock.unlock();
    }
    return decoder.apply(row);
  }

  /**
   * The rows as a sequential, ordered {@link Stream}, read from this extraction as its terminal operation
   * pulls them; closing the stream closes the extraction. Use it in try-with-resources:
   *
   * <pre>{@code
   * try (Stream<List<NxCell>> rows = cube.extract("/qHyperCubeDef", 1000, 4)) {
   *   rows.forEach(row -> System.out.println(row.get(0).text + ": " + row.get(1).num));
   * }
   * }</pre>
   */
  public Stream<T> stream() {
    return StreamSupport.stream(
        Spliterators.spliteratorUnknownSize(this, Spliterator.ORDERED), false)
        .onClose(this::close);
  }

  /** The number of rows once every one was delivered (read to the end without error); -1 before or otherwise. */
  public long rowCount() {
    lock.lock();
    try {
      return done && error == null && !stopped ? rowCount : -1;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops the extraction (when still running) and drops the rows not read: libqix stops delivering rows and
   * cancels the GetHyperCubeData calls in flight. Waits until libqix has ended the extraction, except on a
   * libqix event thread. Idempotent; {@link #hasNext()} is false afterwards.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      stopped = true;
      rows.clear();
      notFull.signalAll();
      notEmpty.signalAll();
      if (Dispatch.inCallback()) {
        return;
      }
      while (!done) {
        ended.awaitUninterruptibly();
      }
    } finally {
      lock.unlock();
    }
  }
}
