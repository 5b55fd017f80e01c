namespace Egress.Cli;

/// <summary>Exit codes every verb uses (DESIGN.md, house style).</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int CheckFailed = 1;
    public const int BadInput = 2;
    public const int Bug = 70;
    public const int Cancelled = 130;
}

/// <summary>Bad input found by a command: printed as the message alone, exit 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
