using System;
using System.Collections;
using System.Collections.Generic;
using System.Threading;
using Qix.Internal;

namespace Qix.Api;

/// <summary>
/// One row of a bulk extraction (<see cref="GenericObject.ExtractAsync"/>): its cells as the generated
/// <see cref="NxCell"/> type (text, number, state, element number ...), in the hypercube's column order, and
/// its position in the cube.
/// </summary>
public sealed class Row : IReadOnlyList<NxCell>
{
    internal Row(long index, List<NxCell> cells)
    {
        Index = index;
        Cells = cells;
    }

    /// <summary>The row's position in the hypercube, 0-based.</summary>
    public long Index { get; }

    /// <summary>The row's cells, one per column (dimensions first, then measures).</summary>
    public IReadOnlyList<NxCell> Cells { get; }

    /// <summary>The number of cells.</summary>
    public int Count => Cells.Count;

    /// <summary>The cell of column <paramref name="column"/>.</summary>
    public NxCell this[int column] => Cells[column];

    /// <inheritdoc />
    public IEnumerator<NxCell> GetEnumerator() => Cells.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

// Hand-written half of the generated GenericObject: bulk extraction and the typed watch.
public sealed partial class GenericObject
{
    /// <summary>
    /// Bulk extraction (qix_object_extract): every row of the hypercube at <paramref name="path"/>, in order,
    /// as typed cells, with up to <paramref name="window"/> GetHyperCubeData pages of
    /// <paramref name="pageHeight"/> rows in flight (0 = the defaults: as many rows as fit in 10,000 cells, 4
    /// pages). The size of the cube is read from a fresh GetLayout when the enumeration starts (nothing runs
    /// before the first <c>MoveNextAsync</c>).
    /// </summary>
    /// <remarks>
    /// <para>Back-pressure: rows wait in a buffer of at most 256 rows; while it is full, libqix's row callback
    /// blocks on this session's event thread, which stalls this session's other events (not other sessions'),
    /// and the window bounds the pages in flight. The loop body may still await calls of the same session:
    /// while one waits for its answer (which comes after the rows on that thread) the row callback does not
    /// block, and the buffer grows past its bound until the answer arrives. Disposing the session also
    /// releases a waiting row callback.</para>
    /// <para>Stopping: breaking out of <c>await foreach</c>, disposing the enumerator or cancelling
    /// <paramref name="cancellationToken"/> stops the extraction (the row callback returns non-zero and libqix
    /// cancels the pages in flight); the enumerator's disposal returns once the extraction has ended.
    /// Cancelling makes the loop throw <see cref="OperationCanceledException"/>.</para>
    /// <para>Errors: a bad path (no hypercube there), a failed page or the session's end make the loop throw
    /// <see cref="QixException"/> (<see cref="QixStatus.InvalidArgument"/>, the page's error,
    /// <see cref="QixStatus.Closed"/> ...) after the rows delivered before it.</para>
    /// </remarks>
    public IAsyncEnumerable<Row> ExtractAsync(string path = "/qHyperCubeDef", int pageHeight = 0, int window = 0,
                                              CancellationToken cancellationToken = default)
    {
        if (path == null) throw new ArgumentNullException(nameof(path));
        return Extraction.Run(this, path, pageHeight, window, cancellationToken);
    }

    /// <summary>
    /// The watch (<see cref="QixObject.WatchLayoutsAsync"/>) with typed layouts: each fresh
    /// <see cref="GenericObjectLayout"/>, now when the data is not current and then after each change; only
    /// the latest not yet taken is kept. Breaking out of <c>await foreach</c> or cancelling
    /// <paramref name="cancellationToken"/> stops the watch; a fetch's error ends it with its
    /// <see cref="QixException"/>.
    /// </summary>
    public IAsyncEnumerable<GenericObjectLayout> WatchAsync(CancellationToken cancellationToken = default) =>
        new LayoutWatch<GenericObjectLayout>(this, json => ApiJson.Deserialize<GenericObjectLayout>(json)
                                                           ?? new GenericObjectLayout()).Enumerate(cancellationToken);
}
