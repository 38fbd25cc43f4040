using System;
using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace Qix.Interop;

// Hand-written half of the generated (partial) module class: the asynchronous call's direct path.
internal partial class QixNative
{
    // Encoded on the stack up to this many bytes (method and params together), else in a pooled array.
    private const int StackBytes = 1024;

    [DllImport("qixcsharp", EntryPoint = "QixCs_ObjectCall")]
    private static extern unsafe long QixCs_ObjectCall(IntPtr obj, byte* method, byte* paramsJson, int flags,
                                                       int timeoutMs, long token, int mode);

    /// <summary>
    /// As <see cref="object_call"/> (the same shim call, qix_object_call with <paramref name="token"/>), with
    /// method and params encoded here as NUL-terminated UTF-8, on the stack when small: no string marshalling
    /// and no std::string per call. <paramref name="obj"/> must stay alive (leased) during the call. Returns the
    /// request id; throws like the generated wrappers (QixException when libqix refuses the call).
    /// <paramref name="rawOnly"/>: the completion brings the whole result only (no unwrapped text).
    /// </summary>
    internal static unsafe long ObjectCallUtf8(NativeObject obj, string method, string paramsJson, int flags,
                                               int timeoutMs, long token, bool wantObject, bool rawOnly)
    {
        Encoding utf8 = Encoding.UTF8;
        // Exact when ASCII (the usual case); never too small: 3 bytes per UTF-16 unit at most.
        int methodMax = method.Length * 3 + 1, paramsMax = paramsJson.Length * 3 + 1;
        int size = methodMax + paramsMax;
        byte[]? rented = null;
        byte* stack = stackalloc byte[StackBytes];
        long id;
        try
        {
            if (size > StackBytes) rented = ArrayPool<byte>.Shared.Rent(size);
            fixed (byte* heap = rented)
            fixed (char* m = method)
            fixed (char* p = paramsJson)
            {
                byte* buffer = rented != null ? heap : stack;
                int methodLength = utf8.GetBytes(m, method.Length, buffer, methodMax - 1);
                buffer[methodLength] = 0;
                byte* paramsUtf8 = buffer + methodLength + 1;
                int paramsLength = utf8.GetBytes(p, paramsJson.Length, paramsUtf8, size - methodLength - 2);
                paramsUtf8[paramsLength] = 0;
                id = QixCs_ObjectCall(NativeObject.getCPtr(obj).Handle, buffer, paramsUtf8, flags, timeoutMs, token,
                                      (wantObject ? 1 : 0) | (rawOnly ? 2 : 0));
            }
        }
        finally
        {
            if (rented != null) ArrayPool<byte>.Shared.Return(rented);
        }
        GC.KeepAlive(obj);
        if (QixNativePINVOKE.SWIGPendingException.Pending) throw QixNativePINVOKE.SWIGPendingException.Retrieve();
        return id;
    }
}
