using System.IO.Compression;
using System.Text;

namespace Egress.Core;

/// <summary>EC2 user data as it goes on the wire: the #cloud-config document, gzip-compressed (cloud-init un-gzips user
/// data that starts with gzip's magic bytes). EC2 limits these bytes, before base64, to <see cref="Limit"/>; compressing
/// the whole document is DESIGN.md's ruling for the user-data budget. The same bytes go to AWS (RunInstances) and to the
/// VM lab's instance metadata service, so the VM lab boots the form AWS receives.</summary>
public static class UserDataWire
{
    /// <summary>EC2's user-data limit (bytes, before base64).</summary>
    public const int Limit = 16384;

    /// <summary>The gzip bytes of <paramref name="document"/> (deterministic: .NET writes no file name and a zero
    /// modification time).</summary>
    public static byte[] Encode(string document)
    {
        ArgumentNullException.ThrowIfNull(document);
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(document));
        }

        return buffer.ToArray();
    }
}
