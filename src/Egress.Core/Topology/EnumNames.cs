namespace Egress.Core.Topology;

/// <summary>An enum's names in a topology file, in the order the hints list them. Two arrays and a linear search (the
/// longest list has four names): unlike a Dictionary&lt;string, TEnum&gt;, this generic lives in Egress.Core, so
/// ReadyToRun precompiles it for Egress.Core's enums and 'egress validate' JIT-compiles none of it (bench/startup.sh).</summary>
internal sealed class EnumNames<T>
    where T : struct
{
    private readonly string[] _names;
    private readonly T[] _values;

    public EnumNames(string[] names, T[] values)
    {
        if (names.Length != values.Length)
        {
            throw new ArgumentException("one value for each name", nameof(values));
        }

        _names = names;
        _values = values;
    }

    public IReadOnlyList<string> Names => _names;

    public bool TryGetValue(string name, out T value)
    {
        for (var i = 0; i < _values.Length; i++)
        {
            if (string.Equals(_names[i], name, StringComparison.Ordinal))
            {
                value = _values[i];
                return true;
            }
        }

        value = default;
        return false;
    }
}
