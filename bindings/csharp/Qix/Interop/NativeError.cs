namespace Qix.Interop;

// Hand-written half of the generated (partial) proxy of qix::Error.
internal partial class NativeError
{
    /// <summary>The error as the public exception type, with every detail copied (the proxy may be borrowed).</summary>
    internal QixException ToException() =>
        new((QixStatus)Status(), EngineCode(), Name(), Parameter(), Message(), Retriable());
}
