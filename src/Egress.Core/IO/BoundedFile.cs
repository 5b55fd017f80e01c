using System.Globalization;
using System.Text;

namespace Egress.Core.IO;

/// <summary>A file egress was told to read or write could not be used: <see cref="Path"/> as the user gave it, and
/// <see cref="Problem"/>, the reason in words (the operating system's, or the bound it broke). The CLI adds the option
/// and the fix and exits 2.</summary>
public sealed class FileAccessProblem : Exception
{
    public FileAccessProblem(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        Path = path;
        Problem = problem;
    }

    public string Path { get; }

    public string Problem { get; }
}

/// <summary>Reads a file given on the command line with a size bound: /dev/zero, a FIFO fed forever or a log file
/// passed by mistake is refused as soon as the bound is passed, never read into memory whole. Text must be UTF-8.</summary>
public static class BoundedFile
{
    /// <summary>An OpenSSH public key: an RSA 16384-bit key is about 2.8 KB; 16 KiB leaves room for a comment.</summary>
    public const int SshPublicKeyBytes = 16 * 1024;

    /// <summary>An OpenSSH private key: RSA 16384-bit with a passphrase is about 13 KB.</summary>
    public const int SshPrivateKeyBytes = 64 * 1024;

    /// <summary>A price table: the built-in one is about 10 KB.</summary>
    public const int PriceTableBytes = 1024 * 1024;

    /// <summary>A known_hosts file: one line (about 100 bytes) per host.</summary>
    public const int KnownHostsBytes = 1024 * 1024;

    /// <summary>The file's text, decoded as UTF-8 (a byte-order mark is dropped). Throws <see cref="FileAccessProblem"/>
    /// when the path is missing, a directory, unreadable, larger than <paramref name="maxBytes"/> (read no further than
    /// one byte past the bound) or not UTF-8. <paramref name="shown"/> is the path as the user wrote it.</summary>
    public static string ReadAllText(string path, int maxBytes, string? shown = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        shown ??= path;
        var bytes = ReadAllBytes(path, maxBytes, shown);
        try
        {
            var text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
            return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
        }
        catch (DecoderFallbackException ex)
        {
            var at = ex.Index >= 0 ? string.Create(CultureInfo.InvariantCulture, $" at byte {ex.Index}") : string.Empty;
            throw new FileAccessProblem(shown, $"not UTF-8 text (an invalid byte{at}); is it a binary file?", ex);
        }
    }

    /// <summary>The file's bytes, at most <paramref name="maxBytes"/>; see <see cref="ReadAllText"/>.</summary>
    public static byte[] ReadAllBytes(string path, int maxBytes, string? shown = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        shown ??= path;
        if (Directory.Exists(path))
        {
            throw new FileAccessProblem(shown, "is a directory, not a file");
        }

        try
        {
            // FileShare.ReadWrite: a file someone is writing is still read (up to the bound). No seeking and no Length:
            // character devices and pipes report 0 and are read like any file, to the bound.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1, FileOptions.SequentialScan);
            var buffer = new byte[Math.Min(maxBytes + 1, 64 * 1024)];
            using var memory = new MemoryStream();
            while (true)
            {
                var want = (int)Math.Min(buffer.Length, maxBytes + 1L - memory.Length);
                var read = stream.Read(buffer, 0, want);
                if (read == 0)
                {
                    return memory.ToArray();
                }

                memory.Write(buffer, 0, read);
                if (memory.Length > maxBytes)
                {
                    throw new FileAccessProblem(shown, $"larger than the {Size(maxBytes)} allowed for this file");
                }
            }
        }
        catch (FileNotFoundException ex)
        {
            throw new FileAccessProblem(shown, "no such file", ex);
        }
        catch (DirectoryNotFoundException ex)
        {
            throw new FileAccessProblem(shown, "its directory does not exist", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new FileAccessProblem(shown, "permission denied", ex);
        }
        catch (IOException ex)
        {
            throw new FileAccessProblem(shown, "cannot be read: " + ex.Message, ex);
        }
    }

    /// <summary>"16 KiB", "1 MiB", "100 bytes".</summary>
    public static string Size(long bytes) => bytes switch
    {
        >= 1024 * 1024 when bytes % (1024 * 1024) == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024 * 1024)} MiB"),
        >= 1024 when bytes % 1024 == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes"),
    };
}

/// <summary>Writes an output file given on the command line so that a failure leaves nothing half-written: a regular
/// file (or a new one) is written to a temporary file beside it and renamed over it; a device or pipe (/dev/stdout,
/// /dev/full) is written in place. Every failure is a <see cref="FileAccessProblem"/> with the operating system's reason.</summary>
public static class OutputFile
{
    /// <summary>Refuses, before any work is done, a path that cannot be written: a directory, a missing or non-directory
    /// parent, a directory egress may not create files in. Creates and removes a probe file beside the target.</summary>
    public static void CheckWritable(string path, string? shown = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        shown ??= path;
        var full = Resolve(path, shown);
        if (Directory.Exists(full))
        {
            throw new FileAccessProblem(shown, "is a directory; give a file name inside it");
        }

        if (IsSpecial(full))
        {
            return;
        }

        var temp = TempBeside(full, shown);
        try
        {
            using (new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw Problem(shown, ex);
        }
        finally
        {
            TryDelete(temp);
        }
    }

    /// <summary>Writes <paramref name="text"/> (UTF-8, no byte-order mark) to <paramref name="path"/>: whole or not at all.</summary>
    public static void WriteAllText(string path, string text, string? shown = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(text);
        shown ??= path;
        var full = Resolve(path, shown);
        if (Directory.Exists(full))
        {
            throw new FileAccessProblem(shown, "is a directory; give a file name inside it");
        }

        var bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text);
        if (IsSpecial(full))
        {
            try
            {
                using var device = new FileStream(full, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 1);
                device.Write(bytes);
                device.Flush();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw Problem(shown, ex);
            }

            return;
        }

        var temp = TempBeside(full, shown);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw Problem(shown, ex);
        }
    }

    private static string Resolve(string path, string shown)
    {
        try
        {
            var full = Path.GetFullPath(path);
            var directory = Path.GetDirectoryName(full);
            if (directory is not null && !Directory.Exists(directory))
            {
                throw new FileAccessProblem(shown, File.Exists(directory)
                    ? $"{directory} is a file, not a directory"
                    : $"the directory {directory} does not exist");
            }

            return full;
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new FileAccessProblem(shown, "not a usable path: " + ex.Message, ex);
        }
    }

    /// <summary>An existing file that is not a regular file (a character device such as /dev/full or /dev/stdout, a
    /// FIFO, a socket), symbolic links followed: a rename would replace it (as root, /dev/full itself), so it is
    /// written in place.</summary>
    private static bool IsSpecial(string full)
    {
        var buffer = new byte[256];
        try
        {
            // statx's struct has the same layout on every architecture: stx_mode is the u16 at offset 28.
            if (statx(AtCurrentDirectory, full, 0, StatxType, buffer) != 0)
            {
                return false; // missing (a new file) or not stat-able: the rename path reports the real error
            }
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            return File.Exists(full) && (full.StartsWith("/dev/", StringComparison.Ordinal) || full.StartsWith("/proc/", StringComparison.Ordinal));
        }

        var mode = BitConverter.ToUInt16(buffer, 28);
        const int TypeMask = 0xF000;
        const int Regular = 0x8000;
        const int Directory = 0x4000;
        var type = mode & TypeMask;
        return type != Regular && type != Directory;
    }

    private const int AtCurrentDirectory = -100;

    private const uint StatxType = 1;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = false)]
    private static extern int statx(int dirfd, [System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, byte[] buffer);

    private static string TempBeside(string full, string shown)
    {
        var directory = Path.GetDirectoryName(full) ?? throw new FileAccessProblem(shown, "has no directory");
        return Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}.{Guid.NewGuid():N}.tmp");
    }

    private static FileAccessProblem Problem(string shown, Exception ex) => ex switch
    {
        UnauthorizedAccessException => new FileAccessProblem(shown, "cannot be written: permission denied", ex),
        _ => new FileAccessProblem(shown, "cannot be written: " + ex.Message, ex),
    };

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the temporary file is dot-named and carries the process id.
        }
    }
}
