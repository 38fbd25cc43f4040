using System;
using Qix.Interop;

namespace Qix;

/// <summary>An exception thrown by a user's event handler, as reported by <see cref="QixDiagnostics.HandlerException"/>.</summary>
public sealed class HandlerExceptionEventArgs : EventArgs
{
    internal HandlerExceptionEventArgs(object? source, string eventName, Exception exception)
    {
        Source = source;
        EventName = eventName;
        Exception = exception;
    }

    /// <summary>The object whose event was raised (a <see cref="Session"/> or <see cref="QixObject"/>), if known.</summary>
    public object? Source { get; }

    /// <summary>The event's name, e.g. "Changed".</summary>
    public string EventName { get; }

    /// <summary>What the handler threw.</summary>
    public Exception Exception { get; }
}

/// <summary>Process-wide diagnostics of the binding.</summary>
public static class QixDiagnostics
{
    /// <summary>
    /// Raised when an event handler (Changed, Closed, StateChanged, NotificationReceived) throws. Such an
    /// exception never ends the process and never stops the other handlers or later events. With no
    /// subscriber, the exception is written to standard error. Raised on the thread of the failed handler;
    /// exceptions thrown by this event's own handlers are written to standard error.
    /// </summary>
    public static event EventHandler<HandlerExceptionEventArgs>? HandlerException;

    /// <summary>The native library's version at run time (e.g. "1.0.0").</summary>
    public static string NativeVersion => QixNative.version();

    internal static void ReportHandlerException(object? source, string eventName, Exception exception)
    {
        var handler = HandlerException;
        var args = new HandlerExceptionEventArgs(source, eventName, exception);
        if (handler == null)
        {
            WriteToStderr(args);
            return;
        }
        foreach (Delegate d in handler.GetInvocationList())
        {
            try
            {
                ((EventHandler<HandlerExceptionEventArgs>)d)(null, args);
            }
            catch (Exception e)
            {
                WriteToStderr(new HandlerExceptionEventArgs(source, "QixDiagnostics.HandlerException", e));
            }
        }
    }

    private static void WriteToStderr(HandlerExceptionEventArgs args)
    {
        try
        {
            Console.Error.WriteLine($"qix: a handler of {args.EventName} threw: {args.Exception}");
        }
        catch (Exception)
        {
            // Nothing left to report to.
        }
    }
}
