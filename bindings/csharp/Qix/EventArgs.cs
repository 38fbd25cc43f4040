using System;
using System.Text.Json;

namespace Qix;

/// <summary>Arguments of <see cref="Session.StateChanged"/> and <see cref="Session.Closed"/>.</summary>
public sealed class SessionStateChangedEventArgs : EventArgs
{
    internal SessionStateChangedEventArgs(SessionState state, int closeCode, string reason)
    {
        State = state;
        CloseCode = closeCode;
        Reason = reason;
    }

    /// <summary>The new state.</summary>
    public SessionState State { get; }

    /// <summary>For <see cref="SessionState.Closed"/>, <see cref="SessionState.Suspended"/> and <see cref="SessionState.Resumed"/>: the WebSocket close code (1006 when the connection just dropped); else 0.</summary>
    public int CloseCode { get; }

    /// <summary>For <see cref="SessionState.Closed"/>, <see cref="SessionState.Suspended"/> and <see cref="SessionState.Resumed"/>: the close reason; else "".</summary>
    public string Reason { get; }
}

/// <summary>Arguments of <see cref="Session.NotificationReceived"/>: a JSON-RPC notification from the engine.</summary>
public sealed class NotificationEventArgs : EventArgs
{
    private readonly Lazy<JsonElement> _params;

    internal NotificationEventArgs(string method, string paramsJson)
    {
        Method = method;
        ParamsJson = paramsJson;
        _params = new Lazy<JsonElement>(() =>
        {
            using JsonDocument doc = JsonDocument.Parse(ParamsJson);
            return doc.RootElement.Clone();
        });
    }

    /// <summary>The notification's method, e.g. <c>OnConnected</c>.</summary>
    public string Method { get; }

    /// <summary>Its params as JSON text.</summary>
    public string ParamsJson { get; }

    /// <summary>Its params parsed (on first use).</summary>
    public JsonElement Params => _params.Value;
}
