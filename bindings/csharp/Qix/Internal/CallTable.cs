using System;
using System.Threading;

namespace Qix.Internal;

/// <summary>
/// The calls in flight, each in a slot of an array: <see cref="Add"/> hands out a token naming the slot (its
/// index in the low 32 bits) and the slot's generation (the 29 bits above, bumped each time the slot is
/// reused, never 0), <see cref="Take"/> finds the slot by index and empties it only when the generation
/// matches. So a token that was already taken (a completion reported twice, a late one) or whose slot has
/// been reused since finds nothing, and a call costs no allocation of its own here (unlike a dictionary
/// node); the array grows (doubling) only when every slot is in use. Tokens are > 0 and below 2^61 (the
/// shim shifts them left two bits). A generation comes back after 2^29 - 1 reuses of its slot. Thread-safe: a short lock around each operation.
/// </summary>
internal sealed class CallTable<T> where T : class
{
    private const int IndexBits = 32;
    private const long IndexMask = 0xFFFF_FFFFL;
    private const int GenerationMask = 0x1FFF_FFFF;

    private readonly object _gate = new();
    private T?[] _slots;
    private int[] _generations;
    // The free slots, as a stack linked through _nextFree (-1 ends it): the slot freed last is reused first.
    private int[] _nextFree;
    private int _freeHead = -1;
    // Slots [0, _used) have been handed out at least once; the others were never used.
    private int _used;
    private int _count;

    public CallTable(int capacity = 64)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity));
        _slots = new T?[capacity];
        _generations = new int[capacity];
        _nextFree = new int[capacity];
    }

    /// <summary>Entries in the table.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Slots allocated (for tests).</summary>
    public int Capacity
    {
        get
        {
            lock (_gate) return _slots.Length;
        }
    }

    /// <summary>Puts <paramref name="item"/> in a free slot; returns its token (> 0).</summary>
    public long Add(T item)
    {
        if (item == null) throw new ArgumentNullException(nameof(item));
        lock (_gate)
        {
            int index;
            if (_freeHead >= 0)
            {
                index = _freeHead;
                _freeHead = _nextFree[index];
            }
            else
            {
                if (_used == _slots.Length) Grow();
                index = _used++;
            }
            int generation = (_generations[index] + 1) & GenerationMask;
            if (generation == 0) generation = 1;
            _generations[index] = generation;
            _slots[index] = item;
            _count++;
            return ((long)generation << IndexBits) | (uint)index;
        }
    }

    /// <summary>
    /// Removes and returns the entry of <paramref name="token"/>; null when the token is unknown, already
    /// taken, or names a slot reused since.
    /// </summary>
    public T? Take(long token)
    {
        if (token <= 0) return null;
        long index = token & IndexMask;
        int generation = (int)(token >> IndexBits);
        lock (_gate)
        {
            if (index >= _used) return null;
            int i = (int)index;
            T? item = _slots[i];
            if (item == null || _generations[i] != generation) return null;
            _slots[i] = null;
            _nextFree[i] = _freeHead;
            _freeHead = i;
            _count--;
            return item;
        }
    }

    private void Grow()
    {
        int size = _slots.Length * 2;
        Array.Resize(ref _slots, size);
        Array.Resize(ref _generations, size);
        Array.Resize(ref _nextFree, size);
    }
}
