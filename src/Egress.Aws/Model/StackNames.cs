namespace Egress.Aws.Model;

/// <summary>The provisioner's own check of a stack name, whatever validated the topology before: everything egress reads as
/// "ours" is found by the exact value of the <c>egress:stack</c> tag, so an empty or malformed name must never reach AWS.</summary>
public static class StackNames
{
    /// <summary>1-32 characters of a-z, 0-9 and '-', starting with a letter (docs/topology.md).</summary>
    public static bool IsValid(string? stack) =>
        stack is { Length: >= 1 and <= 32 } && stack[0] is >= 'a' and <= 'z' && stack.All(ch => ch is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-');

    /// <summary>Throws <see cref="AwsProvisionException"/> (bad input, exit 2) when <paramref name="stack"/> is not a valid name.</summary>
    public static void Require(string? stack, string region)
    {
        if (!IsValid(stack))
        {
            throw new AwsProvisionException(AwsErrorKind.BadInput, "CheckStackName", region,
                $"the topology's stack name '{stack}' is not valid (1-32 characters of a-z, 0-9 and '-', starting with a letter); no AWS call was made",
                "set 'stack:' in the topology file to a name like egress-seed (the name tags and finds every resource of the stack)");
        }
    }

    /// <summary>True when the resource's <c>egress:stack</c> tag is exactly <paramref name="stack"/>: checked client side on
    /// everything a describe call returns, because an emulator (moto ignores DescribeVpcPeeringConnections' filters) or a
    /// future API change may hand back another stack's resources.</summary>
    public static bool Owns(string stack, IReadOnlyDictionary<string, string>? tags) =>
        tags is not null && tags.TryGetValue(StackTags.Stack, out var value) && string.Equals(value, stack, StringComparison.Ordinal);
}
