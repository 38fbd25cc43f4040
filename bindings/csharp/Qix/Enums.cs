using Qix.Interop;

namespace Qix;

/// <summary>
/// Status of a libqix operation: the C API's <c>qix_status</c>. <see cref="QixException.Status"/> carries it.
/// The values come from <c>qix/qix.h</c> (through the generated layer), so they cannot drift from the C ABI;
/// like the C enum, this one only grows.
/// </summary>
public enum QixStatus
{
    /// <summary>Success.</summary>
    Ok = (int)NativeQixStatus.QIX_OK,
    /// <summary>A null or invalid argument (also malformed params JSON). Nothing was sent.</summary>
    InvalidArgument = (int)NativeQixStatus.QIX_EINVAL,
    /// <summary>The session or object is closed (disposed, closed by the engine, or disconnected before the call).</summary>
    Closed = (int)NativeQixStatus.QIX_ECLOSED,
    /// <summary>The engine answered with an error: see <see cref="QixException.EngineCode"/> and <see cref="QixException.LocErrName"/>.</summary>
    Engine = (int)NativeQixStatus.QIX_EENGINE,
    /// <summary>A call or connect timeout expired.</summary>
    Timeout = (int)NativeQixStatus.QIX_ETIMEOUT,
    /// <summary>The call was cancelled (Task-based calls report this as a cancelled task instead).</summary>
    Cancelled = (int)NativeQixStatus.QIX_ECANCELLED,
    /// <summary>The connection was lost before the answer arrived.</summary>
    Connection = (int)NativeQixStatus.QIX_ECONNECTION,
    /// <summary>No such thing (object, layout, request id).</summary>
    NotFound = (int)NativeQixStatus.QIX_ENOTFOUND,
    /// <summary>The peer broke the protocol.</summary>
    Protocol = (int)NativeQixStatus.QIX_EPROTOCOL,
    /// <summary>A message exceeded the maximum message size.</summary>
    TooLarge = (int)NativeQixStatus.QIX_ETOOLARGE,
    /// <summary>The WebSocket upgrade got an HTTP error (the status is in <see cref="QixException.EngineCode"/>).</summary>
    Http = (int)NativeQixStatus.QIX_EHTTP,
    /// <summary>TLS handshake or certificate verification failed.</summary>
    Tls = (int)NativeQixStatus.QIX_ETLS,
    /// <summary>Name resolution, TCP connect or I/O failed.</summary>
    Network = (int)NativeQixStatus.QIX_ENETWORK,
    /// <summary>Not possible from here (a blocking call from a libqix callback thread).</summary>
    Busy = (int)NativeQixStatus.QIX_EBUSY,
    /// <summary>Out of memory.</summary>
    OutOfMemory = (int)NativeQixStatus.QIX_ENOMEM,
    /// <summary>A bug in libqix.</summary>
    Internal = (int)NativeQixStatus.QIX_EINTERNAL,
}

/// <summary>The state of a <see cref="Session"/> (the C API's <c>qix_state</c>).</summary>
public enum SessionState
{
    /// <summary>Opening.</summary>
    Connecting = (int)NativeQixState.QIX_STATE_CONNECTING,
    /// <summary>Open: calls can be made.</summary>
    Connected = (int)NativeQixState.QIX_STATE_CONNECTED,
    /// <summary>Closed by the client, the engine or a failure. Final.</summary>
    Closed = (int)NativeQixState.QIX_STATE_CLOSED,
    /// <summary>The connection dropped and a resume is being tried (the <c>reconnect</c> option).</summary>
    Suspended = (int)NativeQixState.QIX_STATE_SUSPENDED,
    /// <summary>The session was restored on a new connection (only in events; <see cref="Session.State"/> is then Connected).</summary>
    Resumed = (int)NativeQixState.QIX_STATE_RESUMED,
}

/// <summary>Per-call flags (the C API's <c>qix_call_flags</c>).</summary>
[System.Flags]
public enum CallFlags
{
    /// <summary>The session's defaults (the option <c>delta</c>).</summary>
    Default = (int)NativeQixCallFlags.QIX_CALL_DEFAULT,
    /// <summary>Use the delta protocol for this call (when the method supports it).</summary>
    Delta = (int)NativeQixCallFlags.QIX_CALL_DELTA,
    /// <summary>Do not use the delta protocol for this call.</summary>
    NoDelta = (int)NativeQixCallFlags.QIX_CALL_NO_DELTA,
}
