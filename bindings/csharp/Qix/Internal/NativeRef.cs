using System;
using System.Threading;

namespace Qix.Internal;

/// <summary>
/// Owns one generated proxy (a native handle) and releases it deterministically: <see cref="Close"/> marks
/// it closed, and the native object is disposed once no <see cref="Lease"/> is using it any more. So a
/// Dispose() racing with a call on another thread never frees the handle under that call (SafeHandle's
/// reference counting, for SWIG proxies).
/// </summary>
internal sealed class NativeRef<T> where T : class, IDisposable
{
    private readonly T _native;
    private readonly string _ownerName;
    private int _refs = 1;
    private int _closed;

    public NativeRef(T native, string ownerName)
    {
        _native = native;
        _ownerName = ownerName;
    }

    /// <summary>True once <see cref="Close"/> was called.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Uses the native object until the lease is disposed. Throws ObjectDisposedException after Close.</summary>
    public Lease Acquire()
    {
        if (!TryAcquire(out Lease lease)) throw new ObjectDisposedException(_ownerName);
        return lease;
    }

    /// <summary>Like <see cref="Acquire"/>, without throwing.</summary>
    public bool TryAcquire(out Lease lease)
    {
        lease = default;
        // Whatever reaches native code from a continuation comes after the calls it issued before.
        Calls.SendIssued();
        if (IsClosed) return false;
        while (true)
        {
            int refs = Volatile.Read(ref _refs);
            if (refs == 0) return false;
            if (Interlocked.CompareExchange(ref _refs, refs + 1, refs) == refs)
            {
                lease = new Lease(this);
                return true;
            }
        }
    }

    /// <summary>Closes: the native object is disposed now, or when the last lease ends. False if already closed.</summary>
    public bool Close()
    {
        Calls.SendIssued();
        if (Interlocked.Exchange(ref _closed, 1) != 0) return false;
        Release();
        return true;
    }

    private void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0) _native.Dispose();
    }

    /// <summary>A use of the native object; dispose it to end the use.</summary>
    internal readonly struct Lease : IDisposable
    {
        private readonly NativeRef<T>? _owner;

        internal Lease(NativeRef<T> owner) => _owner = owner;

        public T Native => _owner!._native;

        public void Dispose() => _owner?.Release();
    }
}
