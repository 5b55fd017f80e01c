using System.Collections;

namespace Egress.Core.Topology;

/// <summary>An http(s) URL of the topology, its <see cref="System.Uri"/> built when first asked for. Building a Uri loads
/// System.Private.Uri and JIT-compiles its vectorised character searches, about 15 ms, and 'egress validate' never needs
/// one (bench/startup.sh, StartupTests): text that <see cref="IsPlain"/> accepts is known to make a valid http(s) Uri;
/// any other text is checked by building the Uri at once. Equal when the text is equal.</summary>
public sealed class HttpUrl : IEquatable<HttpUrl>
{
    private Uri? _uri;

    private HttpUrl(string text, Uri? uri)
    {
        Text = text;
        _uri = uri;
    }

    public HttpUrl(Uri uri)
        : this(uri?.OriginalString ?? throw new ArgumentNullException(nameof(uri)), uri)
    {
    }

    /// <summary>The URL as written.</summary>
    public string Text { get; }

    public Uri Uri => _uri ??= new Uri(Text, UriKind.Absolute);

    /// <summary>The URL when <paramref name="text"/> is an absolute http or https URL; null otherwise.</summary>
    public static HttpUrl? TryCreate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (IsPlain(text))
        {
            return new HttpUrl(text, null);
        }

        return TryCreateUri(text);
    }

    /// <summary>Its own method, so that a plain URL never loads System.Private.Uri (the JIT and ReadyToRun resolve what
    /// a method uses when it is first called).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static HttpUrl? TryCreateUri(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            ? new HttpUrl(text, uri)
            : null;

    /// <summary>A narrow form that System.Uri always accepts as an absolute http(s) URL: a lowercase scheme, a DNS name
    /// of lowercase labels (1–63 letters, digits and inner '-'), an optional port up to 65535, then a path and query of
    /// unreserved characters, '/', '?', '=' and '&amp;'. No escapes, user info, IP literals or Unicode: those go to Uri.</summary>
    internal static bool IsPlain(string text)
    {
        // Plain loops over the characters: the span searches (IndexOfAny, Split) JIT-compile vectorised code on this path.
        var i = text.StartsWith("https://", StringComparison.Ordinal) ? 8 : text.StartsWith("http://", StringComparison.Ordinal) ? 7 : -1;
        if (i < 0)
        {
            return false;
        }

        // The host: dot-separated labels.
        var hostStart = i;
        var labelStart = i;
        for (; i <= text.Length; i++)
        {
            var c = i < text.Length ? text[i] : '/';
            if (c is '.' or '/' or '?' or ':')
            {
                var length = i - labelStart;
                if (length is 0 or > 63 || text[labelStart] == '-' || text[i - 1] == '-')
                {
                    return false;
                }

                if (c != '.')
                {
                    break;
                }

                labelStart = i + 1;
            }
            else if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        if (i - hostStart > 253)
        {
            return false;
        }

        if (i < text.Length && text[i] == ':')
        {
            var port = 0;
            var digits = 0;
            for (i++; i < text.Length && text[i] is >= '0' and <= '9'; i++, digits++)
            {
                port = digits < 5 ? (port * 10) + (text[i] - '0') : int.MaxValue;
            }

            if (digits == 0 || port > 65535 || (i < text.Length && text[i] is not ('/' or '?')))
            {
                return false;
            }
        }

        for (; i < text.Length; i++)
        {
            if (text[i] is not ((>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-' or '.' or '_' or '~' or '/' or '?' or '=' or '&'))
            {
                return false;
            }
        }

        return true;
    }

    public bool Equals(HttpUrl? other) => other is not null && string.Equals(Text, other.Text, StringComparison.Ordinal);

    public override bool Equals(object? obj) => Equals(obj as HttpUrl);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Text);

    public override string ToString() => Text;
}

/// <summary>A list of URLs read as Uris, each built when first read (<see cref="HttpUrl"/>).</summary>
internal sealed class HttpUrlList(IReadOnlyList<HttpUrl> urls) : IReadOnlyList<Uri>
{
    public Uri this[int index] => urls[index].Uri;

    public int Count => urls.Count;

    public IEnumerator<Uri> GetEnumerator()
    {
        foreach (var url in urls)
        {
            yield return url.Uri;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
