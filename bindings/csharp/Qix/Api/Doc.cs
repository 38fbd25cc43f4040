using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace Qix.Api;

/// <summary>
/// The Doc's overloads of <see cref="QixObject"/>'s JSON helpers, so that they too return the typed classes
/// (a call with a token but without the optional parameters would otherwise reach the untyped helper).
/// </summary>
public sealed partial class Doc
{
    /// <summary>The field <paramref name="fieldName"/> in the default state, or null when there is none.</summary>
    public new Task<Field?> GetFieldAsync(string fieldName, CancellationToken cancellationToken) =>
        GetFieldAsync(fieldName, "", cancellationToken);

    /// <summary>Creates a session object from its properties as JSON text (Doc.CreateSessionObject).</summary>
    /// <returns>The object; faults with <see cref="QixException"/> (also when the engine answered none).</returns>
    public new async Task<GenericObject> CreateSessionObjectAsync(string propertiesJson,
                                                                  CancellationToken cancellationToken = default) =>
        Typed(await base.CreateSessionObjectAsync(propertiesJson, cancellationToken).ConfigureAwait(false));

    /// <summary>Creates a session object from its properties as a JSON element (Doc.CreateSessionObject).</summary>
    /// <returns>The object; faults with <see cref="QixException"/> (also when the engine answered none).</returns>
    public new async Task<GenericObject> CreateSessionObjectAsync(JsonElement properties,
                                                                  CancellationToken cancellationToken = default) =>
        Typed(await base.CreateSessionObjectAsync(properties, cancellationToken).ConfigureAwait(false));

    private static GenericObject Typed(QixObject obj) =>
        obj as GenericObject ?? throw new QixException(QixStatus.Protocol,
                                                       $"CreateSessionObject returned a {obj.Type}, not a GenericObject");
}
