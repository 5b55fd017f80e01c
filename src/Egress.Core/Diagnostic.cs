using System.Globalization;

namespace Egress.Core;

public enum DiagnosticSeverity
{
    Error,
    Warning,
}

/// <summary>One problem in a topology file: where it is (file, line:column, path inside the document),
/// what is wrong and how to fix it.</summary>
public sealed record Diagnostic(
    DiagnosticSeverity Severity,
    string File,
    int Line,
    int Column,
    string Path,
    string Message,
    string? Hint = null)
{
    public bool IsError => Severity == DiagnosticSeverity.Error;

    public override string ToString()
    {
        var where = Line > 0 ? string.Create(CultureInfo.InvariantCulture, $"{File}:{Line}:{Column}") : File;
        var severity = IsError ? "error" : "warning";
        var path = string.IsNullOrEmpty(Path) ? string.Empty : Path + ": ";
        var text = $"{where}: {severity}: {path}{Message}";
        return Hint is null ? text : $"{text}\n    fix: {Hint}";
    }
}
