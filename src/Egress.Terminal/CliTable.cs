using Spectre.Console;

namespace Egress.Terminal;

/// <summary>A column of a <see cref="CliTable"/>. A value column (an address, id, CIDR, price) is never wrapped;
/// a prose column (a description) may wrap between words, never inside one.</summary>
public sealed record CliColumn(string Header, bool RightAligned = false, bool Prose = false);

/// <summary>The one way the CLI prints a table, readable at 80 columns and in logs: a value is never split mid-token.
/// When the table fits the console's width (COLUMNS when set, else the terminal's, else 80) it is a bordered table;
/// when it does not, each row becomes a block of "header: value" lines. Cells are plain text (escaped here).</summary>
public sealed class CliTable(string? title, params CliColumn[] columns)
{
    private readonly List<string[]> _rows = [];

    public IReadOnlyList<CliColumn> Columns { get; } = columns;

    public CliTable AddRow(params string[] cells)
    {
        if (cells.Length != Columns.Count)
        {
            throw new ArgumentException($"a row of {cells.Length} cells for {Columns.Count} columns", nameof(cells));
        }

        _rows.Add(cells);
        return this;
    }

    /// <summary>An empty row: a gap before a total.</summary>
    public CliTable AddGap() => AddRow([.. Columns.Select(_ => string.Empty)]);

    public void Write(IAnsiConsole console)
    {
        var widths = Layout(console.Profile.Width);
        if (widths is null)
        {
            WriteList(console);
            return;
        }

        var table = new Table().Border(TableBorder.Rounded);
        if (title is not null)
        {
            table.Title(Markup.Escape(title));
        }

        for (var c = 0; c < Columns.Count; c++)
        {
            var column = new TableColumn(Markup.Escape(Columns[c].Header)) { Width = widths[c], NoWrap = !Columns[c].Prose };
            table.AddColumn(Columns[c].RightAligned ? column.RightAligned() : column);
        }

        foreach (var row in _rows)
        {
            table.AddRow(row.Select(Markup.Escape).ToArray());
        }

        console.Write(table);
    }

    /// <summary>The width of each column when the table fits <paramref name="width"/>, else null. Value columns get
    /// their longest line; prose columns share what is left but never less than their longest word.</summary>
    internal int[]? Layout(int width)
    {
        var natural = Columns.Select((c, i) => Math.Max(c.Header.Length, _rows.Select(r => Longest(r[i], Lines)).DefaultIfEmpty(0).Max())).ToArray();
        var chrome = (3 * Columns.Count) + 1; // a space each side of every cell, a border between and around them
        var available = width - chrome;
        var fixedWidth = Columns.Select((c, i) => c.Prose ? 0 : natural[i]).Sum();
        var prose = Enumerable.Range(0, Columns.Count).Where(i => Columns[i].Prose).ToList();
        if (fixedWidth + prose.Sum(i => natural[i]) <= available && (title?.Length ?? 0) <= width)
        {
            return natural;
        }

        if (prose.Count == 0 || (title?.Length ?? 0) > width)
        {
            return null;
        }

        var minimum = prose.ToDictionary(i => i, i => Math.Max(Columns[i].Header.Length, _rows.Select(r => Longest(r[i], Words)).DefaultIfEmpty(0).Max()));
        var left = available - fixedWidth;
        if (minimum.Values.Sum() > left)
        {
            return null;
        }

        // Give the prose columns their minimum, then share the rest in proportion to what each still wants.
        var widths = (int[])natural.Clone();
        var extra = left - minimum.Values.Sum();
        var wanted = prose.Sum(i => natural[i] - minimum[i]);
        foreach (var i in prose)
        {
            widths[i] = minimum[i] + (wanted == 0 ? 0 : (int)((long)extra * (natural[i] - minimum[i]) / wanted));
        }

        return widths;
    }

    /// <summary>Written past Spectre, which would wrap a long line at the console's width (splitting a long token).</summary>
    private void WriteList(IAnsiConsole console)
    {
        var writer = console.Profile.Out.Writer;
        if (title is not null)
        {
            writer.WriteLine(CliText.Wrap(title, console.Profile.Width));
        }

        var label = Columns.Max(c => c.Header.Length);
        foreach (var row in _rows.Where(r => r.Any(cell => cell.Length > 0)))
        {
            for (var c = 0; c < Columns.Count; c++)
            {
                if (row[c].Length == 0)
                {
                    continue;
                }

                // A prose value breaks between words under itself; a value line (an address) stays whole.
                var prefix = (c == 0 ? "- " : "  ") + (Columns[c].Header + ":").PadRight(label + 2);
                var lines = row[c].Split('\n').Select((line, i) => (i == 0 ? prefix : new string(' ', prefix.Length)) + line);
                foreach (var line in Columns[c].Prose ? lines.SelectMany(l => CliText.WrapLine(l, console.Profile.Width, prefix.Length)) : lines)
                {
                    writer.WriteLine(line);
                }
            }
        }
    }

    private static readonly char[] Lines = ['\n'];
    private static readonly char[] Words = ['\n', ' '];

    private static int Longest(string text, char[] separators) =>
        text.Split(separators).Select(part => part.Length).DefaultIfEmpty(0).Max();
}
