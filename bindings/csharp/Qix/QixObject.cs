using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Qix.Internal;
using Qix.Interop;

namespace Qix;

/// <summary>
/// A handle to one engine object: the Global object, a Doc, a GenericObject, a Field, a GenericVariable ...
/// Any Engine API method of its class is reached with <see cref="CallAsync(string, string, CancellationToken)"/>;
/// the objects a session hands out are of the typed class of their qType (<see cref="Qix.Api.Doc"/>,
/// <see cref="Qix.Api.GenericObject"/> ...: namespace <see cref="Qix.Api"/>), which add a typed method for
/// each method of the Engine API. Only this assembly derives from it.
/// </summary>
/// <remarks>
/// <para><b>Lifetime.</b> An object belongs to its <see cref="Session"/>, which keeps it (and its event
/// handlers) alive and disposes it when the session is disposed; dispose it earlier to release the handle
/// (this does not destroy the engine object: call DestroySessionObject for that). After the engine closes
/// the handle or the session ends, calls fail with <see cref="QixStatus.Closed"/>; after Dispose they throw
/// <see cref="ObjectDisposedException"/>. Dispose is idempotent.</para>
/// <para><b>Threads.</b> Thread-safe. Events are raised on the thread pool, in order with the session's other
/// events; see <see cref="Session"/>.</para>
/// </remarks>
public class QixObject : IDisposable, IAsyncDisposable
{
    private readonly NativeRef<NativeObject> _native;
    private readonly object _gate = new();
    private ObjectEvents? _listener;
    // One native "changed" listener per Changed handler, so that each handler gets libqix's rule for a new
    // listener (raised once at once when the data is not current); kept referenced while native code may
    // call it.
    private readonly System.Collections.Generic.List<ChangedTap> _changedTaps = new();
    private EventHandler? _closed;

    internal QixObject(Session session, NativeObject native)
    {
        Session = session;
        _native = new NativeRef<NativeObject>(native, nameof(QixObject));
        _firstHandle = native.Handle();
        Type = native.Type();
        GenericId = native.GenericId();
        GenericType = native.GenericType();
    }

    /// <summary>The session the object belongs to.</summary>
    public Session Session { get; }

    private readonly int _firstHandle;

    /// <summary>The engine handle (-1 for Global). A reconnect that restores the object gives it a new one
    /// (see docs/reconnect.md); once the object is disposed, the last one known.</summary>
    public int Handle
    {
        get
        {
            if (!_native.TryAcquire(out var lease)) return _firstHandle;
            using (lease) return lease.Native.Handle();
        }
    }

    /// <summary>The qType: "Global", "Doc", "GenericObject", "Field" ...</summary>
    public string Type { get; }

    /// <summary>The qGenericId (the app id of a Doc, the id of a GenericObject).</summary>
    public string GenericId { get; }

    /// <summary>The qGenericType (e.g. the qInfo.qType of a GenericObject).</summary>
    public string GenericType { get; }

    /// <summary>True when the last fetched layout is current (fetched and not invalidated since).</summary>
    public bool IsValid
    {
        get
        {
            if (!_native.TryAcquire(out var lease)) return false;
            using (lease) return lease.Native.Valid();
        }
    }

    /// <summary>True when the handle is closed (by the engine, the session's end, or Dispose).</summary>
    public bool IsClosed
    {
        get
        {
            if (!_native.TryAcquire(out var lease)) return true;
            using (lease) return lease.Native.Closed();
        }
    }

    /// <summary>The last layout fetched with GetLayout/GetAppLayout as JSON text, or null when none was fetched.</summary>
    public string? CachedLayoutJson
    {
        get
        {
            using var lease = _native.Acquire();
            try
            {
                return lease.Native.Layout();
            }
            catch (QixException e) when (e.Status == QixStatus.NotFound)
            {
                return null;
            }
        }
    }

    /// <summary>
    /// The object's data is no longer current (a selection, a property change ...): fetch the layout again to
    /// see the new data. Raised once per invalidation (on the valid-to-invalid edge), on the thread pool. A
    /// handler added while the data is not current (never fetched, or changed since the last fetch) is also
    /// raised once at once: the engine reports only objects whose layout it has computed, so that fetch is
    /// what makes the next selection heard. Objects without a layout (Global, Field, Variable) never are.
    /// </summary>
    public event EventHandler? Changed
    {
        add
        {
            if (value == null) return;
            var tap = new ChangedTap(this, value);
            lock (_gate) _changedTaps.Add(tap);
            if (!_native.TryAcquire(out var lease)) return;
            using (lease)
            {
                try
                {
                    lease.Native.AddListener(tap);
                }
                catch (QixException)
                {
                    // A closed handle has no events left to deliver.
                }
            }
        }
        remove
        {
            if (value == null) return;
            ChangedTap? tap = null;
            lock (_gate)
            {
                int i = _changedTaps.FindLastIndex(t => t.Handler == value);
                if (i < 0) return;
                tap = _changedTaps[i];
                _changedTaps.RemoveAt(i);
            }
            if (!_native.TryAcquire(out var lease)) return;
            using (lease) lease.Native.RemoveListener(tap);
        }
    }

    /// <summary>The engine released the handle (DestroySessionObject, the session's end ...).</summary>
    public event EventHandler? Closed
    {
        add { lock (_gate) _closed += value; EnsureListening(); }
        remove { lock (_gate) _closed -= value; }
    }

    /// <summary>Calls <paramref name="method"/> on this object with params as JSON text (an array or an object).</summary>
    /// <returns>The result. Faults with <see cref="QixException"/>; cancelled when <paramref name="cancellationToken"/> is.</returns>
    public Task<QixResult> CallAsync(string method, string paramsJson = "[]", CancellationToken cancellationToken = default) =>
        CallAsync(method, paramsJson, CallFlags.Default, null, cancellationToken);

    /// <summary>Calls <paramref name="method"/> with params as a JSON element (an array or an object).</summary>
    public Task<QixResult> CallAsync(string method, JsonElement parameters, CancellationToken cancellationToken = default) =>
        CallAsync(method, parameters.GetRawText(), CallFlags.Default, null, cancellationToken);

    /// <summary>
    /// Calls <paramref name="method"/> on this object. <paramref name="flags"/> overrides the session's delta
    /// default; <paramref name="timeout"/>: null = the session's <c>timeout.call_ms</c>,
    /// <see cref="Timeout.InfiniteTimeSpan"/> = none. Cancelling <paramref name="cancellationToken"/> sends the
    /// engine a CancelRequest and cancels the task.
    /// </summary>
    public Task<QixResult> CallAsync(string method, string paramsJson, CallFlags flags, TimeSpan? timeout = null,
                                     CancellationToken cancellationToken = default)
    {
        if (method == null) throw new ArgumentNullException(nameof(method));
        return Issue(method, paramsJson ?? "[]", flags, Session.ToTimeoutMs(timeout), null, true, false, cancellationToken);
    }

    /// <summary>The typed API's call: as CallAsync; <paramref name="make"/> wraps the object of the result.</summary>
    internal Task<QixResult> CallTypedAsync(string method, string paramsJson, Func<Session, NativeObject, QixObject>? make,
                                            CancellationToken cancellationToken) =>
        Issue(method, paramsJson, CallFlags.Default, Session.ToTimeoutMs(null), make, make != null, make == null,
              cancellationToken);

    // wantObject: whether the object of the result (if any) is wrapped and adopted; the typed methods that
    // return no object do not ask (the shim then skips the facade's copy of the result). rawOnly: the result
    // is read as a whole only (the typed API's decoders): the unwrapped text is not made (QixResult.Json
    // then throws; such results stay inside the binding).
    private Task<QixResult> Issue(string method, string paramsJson, CallFlags flags, int timeoutMs,
                                  Func<Session, NativeObject, QixObject>? make, bool wantObject, bool rawOnly,
                                  CancellationToken cancellationToken) =>
        Calls.Issue(this, method, paramsJson, (int)flags, timeoutMs, make, wantObject, rawOnly, cancellationToken);

    /// <summary>
    /// Sends an asynchronous call with <paramref name="token"/> (the shim's qix_object_call): its completion reaches
    /// <see cref="Calls"/>. Returns the request id; throws when libqix refuses the call (no completion then).
    /// </summary>
    internal long SendCall(string method, string paramsJson, int flags, int timeoutMs, long token, bool wantObject,
                           bool rawOnly)
    {
        using var lease = _native.Acquire();
        return QixNative.ObjectCallUtf8(lease.Native, method, paramsJson, flags, timeoutMs, token, wantObject, rawOnly);
    }

    /// <summary>Starts qix_object_extract reporting to <see cref="Extraction"/>'s sink with <paramref name="token"/>.</summary>
    internal void StartExtract(string path, int pageHeight, int window, long token)
    {
        using var lease = _native.Acquire();
        QixNative.object_extract(lease.Native, path, pageHeight, window, token);
    }

    /// <summary>Starts qix_object_watch reporting to <see cref="LayoutWatch"/>'s sink with <paramref name="token"/>.</summary>
    internal void StartWatch(long token)
    {
        using var lease = _native.Acquire();
        QixNative.object_watch(lease.Native, token);
    }

    /// <summary>qix_object_unwatch; nothing when the handle is gone (its watch went with it).</summary>
    internal void StopWatch()
    {
        if (!_native.TryAcquire(out var lease)) return;
        using (lease)
        {
            try
            {
                QixNative.object_unwatch(lease.Native);
            }
            catch (QixException)
            {
                // A closed handle has no watch left.
            }
        }
    }

    /// <summary>
    /// Keeps the layout fresh (qix_object_watch) and yields each fresh layout (the unwrapped qLayout): now
    /// when the object's data is not current, then after each change (bursts coalesced; the session option
    /// <c>watch.min_interval_ms</c> throttles the fetches). A layout the consumer has not taken yet is replaced
    /// by a fresher one: only the latest is kept. A fetch's error ends the enumeration with its
    /// <see cref="QixException"/>. Breaking out of <c>await foreach</c>, disposing the enumerator or cancelling
    /// <paramref name="cancellationToken"/> stops the watch (qix_object_unwatch). The watch belongs to the
    /// engine object: one per object, so a second watch of the same object (through any handle) replaces this
    /// one, which then waits for layouts that never come.
    /// </summary>
    public IAsyncEnumerable<JsonElement> WatchLayoutsAsync(CancellationToken cancellationToken = default) =>
        new LayoutWatch<JsonElement>(this, json =>
        {
            using JsonDocument document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }).Enumerate(cancellationToken);

    /// <summary>Blocking call. Throws <see cref="QixException"/> on failure.</summary>
    public QixResult Call(string method, string paramsJson = "[]", CallFlags flags = CallFlags.Default,
                          TimeSpan? timeout = null)
    {
        if (method == null) throw new ArgumentNullException(nameof(method));
        Calls.BeforeBlocking();
        NativeResult result;
        using (var lease = _native.Acquire())
        {
            Session.CallStarted();
            try
            {
                result = lease.Native.Call(method, paramsJson ?? "[]", (int)flags, Session.ToTimeoutMs(timeout));
            }
            finally
            {
                Session.CallEnded();
            }
        }
        using (result) return Session.ToResult(result);
    }

    /// <summary>
    /// Fetches the layout (GetAppLayout for a Doc, GetLayout otherwise): the unwrapped qLayout, which also
    /// becomes <see cref="CachedLayoutJson"/> and makes the object valid again.
    /// </summary>
    public async Task<JsonElement> GetLayoutAsync(CancellationToken cancellationToken = default)
    {
        string method = Type == "Doc" ? "GetAppLayout" : "GetLayout";
        QixResult result = await CallAsync(method, "[]", cancellationToken).ConfigureAwait(false);
        return result.Value;
    }

    /// <summary>On a Doc: creates a session object (e.g. a hypercube) from its properties as JSON text.</summary>
    public async Task<QixObject> CreateSessionObjectAsync(string propertiesJson,
                                                          CancellationToken cancellationToken = default)
    {
        if (propertiesJson == null) throw new ArgumentNullException(nameof(propertiesJson));
        QixResult result = await CallAsync("CreateSessionObject", "[" + propertiesJson + "]", cancellationToken)
                                     .ConfigureAwait(false);
        return result.Object ?? throw new QixException(QixStatus.NotFound, "CreateSessionObject returned no object");
    }

    /// <summary>On a Doc: creates a session object from its properties as a JSON element.</summary>
    public Task<QixObject> CreateSessionObjectAsync(JsonElement properties, CancellationToken cancellationToken = default) =>
        CreateSessionObjectAsync(properties.GetRawText(), cancellationToken);

    /// <summary>On a Doc: the object with the id <paramref name="id"/>, or null when there is none.</summary>
    public async Task<QixObject?> GetObjectAsync(string id, CancellationToken cancellationToken = default)
    {
        try
        {
            QixResult result = await CallAsync("GetObject", QixJson.Params(id), cancellationToken).ConfigureAwait(false);
            return result.Object;
        }
        catch (QixException e) when (e.Status == QixStatus.NotFound)
        {
            return null;  // the engine answered qHandle null
        }
    }

    /// <summary>On a Doc: the field <paramref name="name"/> (for Select, Clear ...), or null when there is none.</summary>
    public async Task<QixObject?> GetFieldAsync(string name, CancellationToken cancellationToken = default)
    {
        try
        {
            QixResult result = await CallAsync("GetField", QixJson.Params(name), cancellationToken).ConfigureAwait(false);
            return result.Object;
        }
        catch (QixException e) when (e.Status == QixStatus.NotFound)
        {
            return null;  // the engine answered qHandle null
        }
    }

    /// <summary>On a Doc: evaluates an expression (e.g. <c>Sum(Sales)</c>) in the current selections, as text.</summary>
    public async Task<string> EvaluateAsync(string expression, CancellationToken cancellationToken = default)
    {
        QixResult result = await CallAsync("Evaluate", QixJson.Params(expression), cancellationToken).ConfigureAwait(false);
        return result.Value.ValueKind == JsonValueKind.String ? result.Value.GetString()! : result.Json;
    }

    /// <summary>Releases the handle (and its event registrations) and removes it from its session. Idempotent.</summary>
    public void Dispose()
    {
        if (_native.IsClosed) return;
        Session.Forget(this);
        Release();
    }

    /// <summary>Same as <see cref="Dispose"/>.</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return default;
    }

    /// <summary>Frees the native handle (its listeners go with it) without touching the session's bookkeeping.</summary>
    internal void Release() => _native.Close();

    /// <summary>A use of the native handle that keeps it past <see cref="Release"/> until disposed; null if gone.</summary>
    internal IDisposable? HoldNative() => _native.TryAcquire(out var lease) ? lease : null;

    /// <inheritdoc />
    public override string ToString() => $"{Type} {GenericId} (handle {Handle})";

    private void EnsureListening()
    {
        ObjectEvents listener;
        lock (_gate)
        {
            if (_listener != null) return;
            _listener = listener = new ObjectEvents(this);
        }
        if (!_native.TryAcquire(out var lease)) return;
        using (lease)
        {
            try
            {
                lease.Native.AddListener(listener);
            }
            catch (QixException)
            {
                // A closed handle has no events left to deliver.
            }
        }
    }

    private void OnNativeClosed() => Session.Events.Post(() =>
    {
        EventHandler? handler;
        lock (_gate) handler = _closed;
        EventQueue.Raise(handler, this, nameof(Closed));
    });

    /// <summary>One Changed handler's director: runs on libqix's dispatcher thread and only enqueues.</summary>
    private sealed class ChangedTap : NativeObjectListener
    {
        private readonly QixObject _owner;

        public ChangedTap(QixObject owner, EventHandler handler)
        {
            _owner = owner;
            Handler = handler;
        }

        public EventHandler Handler { get; }

        public override void OnChanged()
        {
            try
            {
                _owner.Session.Events.Post(() => EventQueue.Raise(Handler, _owner, nameof(Changed)));
            }
            catch (Exception e)
            {
                QixDiagnostics.ReportHandlerException(_owner, nameof(Changed), e);
            }
            GC.KeepAlive(this);
        }

        public override void OnClosed() { }
    }

    /// <summary>The object's "closed" director: runs on libqix's dispatcher thread and only enqueues.</summary>
    private sealed class ObjectEvents : NativeObjectListener
    {
        private readonly QixObject _owner;

        public ObjectEvents(QixObject owner) => _owner = owner;

        // "changed" reaches each handler through its own ChangedTap.
        public override void OnChanged() { }

        public override void OnClosed()
        {
            try
            {
                _owner.OnNativeClosed();
            }
            catch (Exception e)
            {
                QixDiagnostics.ReportHandlerException(_owner, nameof(Closed), e);
            }
            GC.KeepAlive(this);
        }
    }
}
