package org.libqix;

/** The state of a {@link Session} (the C API's {@code qix_state}). */
public enum SessionState {
  /** Opening. */
  CONNECTING,
  /** Open: calls can be made. */
  CONNECTED,
  /** Closed by the client, the engine or a failure; final. */
  CLOSED,
  /** The connection dropped and a resume is being tried (the {@code reconnect} option). */
  SUSPENDED,
  /** The session was restored on a new connection (only in events; the state is then CONNECTED). */
  RESUMED;

  /** The state of a C API {@code qix_state} value (an unknown value counts as {@link #CLOSED}). */
  static SessionState of(int state) {
    if (state == qix_state.QIX_STATE_CONNECTING) {
      return CONNECTING;
    } else if (state == qix_state.QIX_STATE_CONNECTED) {
      return CONNECTED;
    } else if (state == qix_state.QIX_STATE_SUSPENDED) {
      return SUSPENDED;
    } else if (state == qix_state.QIX_STATE_RESUMED) {
      return RESUMED;
    }
    return CLOSED;
  }
}
