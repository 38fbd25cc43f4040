using System;

namespace Qix;

/// <summary>
/// A failure reported by libqix or by the engine. Engine errors keep the engine's code, LOCERR name and
/// parameter (e.g. <c>OpenDoc</c> of a missing app: <see cref="EngineCode"/> 1003,
/// <see cref="LocErrName"/> <c>LOCERR_APP_NOT_FOUND</c>). Cancellation through a
/// <see cref="System.Threading.CancellationToken"/> is reported as a cancelled task
/// (<see cref="OperationCanceledException"/>), not as this exception.
/// </summary>
public class QixException : Exception
{
    /// <summary>An error with a status and a message (no engine details).</summary>
    public QixException(QixStatus status, string message)
        : this(status, 0, "", "", message, false)
    {
    }

    /// <summary>An error with every detail, as the C API reports it.</summary>
    public QixException(QixStatus status, int engineCode, string locErrName, string parameter, string message,
                        bool isRetriable)
        : base(message)
    {
        Status = status;
        EngineCode = engineCode;
        LocErrName = locErrName ?? "";
        Parameter = parameter ?? "";
        IsRetriable = isRetriable;
    }

    /// <summary>The status (never <see cref="QixStatus.Ok"/>).</summary>
    public QixStatus Status { get; }

    /// <summary>Engine errors: the engine's code (e.g. 1003). HTTP errors: the HTTP status. Otherwise 0.</summary>
    public int EngineCode { get; }

    /// <summary>Engine errors: the LOCERR name (e.g. <c>LOCERR_APP_NOT_FOUND</c>); otherwise "".</summary>
    public string LocErrName { get; }

    /// <summary>Engine errors: the engine's <c>parameter</c> (often the offending name); otherwise "".</summary>
    public string Parameter { get; }

    /// <summary>True when retrying the same request may succeed (engine code 15, timeouts, lost connections).</summary>
    public bool IsRetriable { get; }

    /// <summary>True for errors the engine sent (<see cref="Status"/> is <see cref="QixStatus.Engine"/>).</summary>
    public bool IsEngineError => Status == QixStatus.Engine;

    /// <inheritdoc />
    public override string ToString()
    {
        string details = IsEngineError ? $" (engine code {EngineCode} {LocErrName}, parameter '{Parameter}')" : "";
        return $"{GetType().FullName} [{Status}]{details}: {Message}{Environment.NewLine}{StackTrace}";
    }
}
