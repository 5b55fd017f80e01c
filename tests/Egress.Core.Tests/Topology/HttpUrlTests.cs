using Egress.Core.Topology;

namespace Egress.Core.Tests.Topology;

/// <summary>A topology's URLs are checked without building a System.Uri when they are plain (start-up: bench/startup.sh);
/// every text the quick check accepts must be one System.Uri accepts as an absolute http(s) URL.</summary>
public sealed class HttpUrlTests
{
    private static readonly string[] Bases =
    [
        "https://api.binance.com/api/v3/time", "https://ipinfo.io/json", "http://example.com", "http://192.0.2.7:8080/a?b=c&d=e",
        "https://a-b.example.org:443/x_y.z~w", "http://1.2.3/", "http://a:0", "http://a:65535/", "https://x.y?q",
    ];

    private const string Alphabet = "aZ09-._~/?=&:@#%[] \t\\é\u00a0!$'()*+,;\"<>^`{|}";

    /// <summary>Every base URL, and every one with one character inserted, replaced or removed at each position.</summary>
    private static IEnumerable<string> Mutants()
    {
        foreach (var url in Bases)
        {
            yield return url;
            for (var i = 0; i <= url.Length; i++)
            {
                foreach (var c in Alphabet)
                {
                    yield return url.Insert(i, c.ToString());
                    if (i < url.Length)
                    {
                        yield return string.Concat(url.AsSpan(0, i), c.ToString(), url.AsSpan(i + 1));
                    }
                }

                if (i < url.Length)
                {
                    yield return url.Remove(i, 1);
                }
            }
        }

        yield return "https://" + string.Join('.', Enumerable.Repeat(new string('a', 63), 4)) + "/";
        yield return "https://" + new string('a', 64) + "/";
        yield return "http://a:99999";
        yield return "http://a:00080";
        yield return "http://a:";
        yield return "HTTP://a/";
    }

    [Fact]
    public void IsPlain_AcceptsOnlyWhatUriAcceptsAsAnAbsoluteHttpUrl()
    {
        var plain = 0;
        var wrong = new List<string>();
        foreach (var text in Mutants())
        {
            if (!HttpUrl.IsPlain(text))
            {
                continue;
            }

            plain++;
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.OriginalString != text)
            {
                wrong.Add(text);
            }
        }

        Assert.Empty(wrong);
        Assert.True(plain > 500, $"only {plain} texts took the quick path");
    }

    [Fact]
    public void TryCreate_AgreesWithUri()
    {
        foreach (var text in Mutants())
        {
            var expected = Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
            var url = HttpUrl.TryCreate(text);
            Assert.True(expected == (url is not null), text);
            if (url is not null)
            {
                Assert.Equal(uri, url.Uri);
                Assert.Equal(text, url.Text);
            }
        }
    }

    [Fact]
    public void Load_Seed_BuildsNoUriUntilOneIsRead()
    {
        var topology = TopologyLoader.Load(Examples.Text(Examples.Seed)).Require();

        Assert.True(HttpUrl.IsPlain(topology.Verify.IpEchoUrl.Text));
        Assert.Equal(new Uri("https://ipinfo.io/json"), topology.Verify.IpEcho);
        Assert.Equal(new Uri("https://api.binance.com/api/v3/time"), Assert.Single(topology.Verify.Targets));
    }
}
