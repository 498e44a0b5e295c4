using System.Text;
using FsCheck;
using MailgunFunctions.Inbound;
using MailgunFunctions.Testing;
using Microsoft.AspNetCore.WebUtilities;

namespace MailgunFunctions.Tests.Inbound;

public class UrlEncodedFormReaderTests
{
    /// <summary>Hands out one byte per read, so every escape is split across reads.</summary>
    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => base.ReadAsync(buffer[..Math.Min(buffer.Length, 1)], cancellationToken);
    }

    internal static async Task<List<(string Key, string Value)>> ReadAll(Stream body)
    {
        var pairs = new List<(string, string)>();
        await UrlEncodedFormReader.ReadAsync(body, _ => new MemoryStream(), (key, sink) => pairs.Add((key, Encoding.UTF8.GetString(((MemoryStream)sink!).ToArray()))), CancellationToken.None);
        return pairs;
    }

    [Test]
    public async Task V3_token_is_decoded_exactly_once()
    {
        // Vector V3 of SignatureVerifierTests (a token full of characters forms escape), as it appears on the wire.
        string wire = "timestamp=1700000000&token=AbC%2B%2F%3D%2526%26x+y_-.~0123456789abcdefghij%21%2A%27%28%29%5B%5D%7B%7D%7C%5CZz";
        var pairs = await ReadAll(new TrickleStream(Encoding.ASCII.GetBytes(wire)));
        Assert.That(pairs, Is.EqualTo(new[] { ("timestamp", "1700000000"), ("token", "AbC+/=%26&x y_-.~0123456789abcdefghij!*'()[]{}|\\Zz") }));
    }

    [TestCase("a=1&&b=2&", new[] { "a", "1", "b", "2" })]
    [TestCase("flag&x=", new[] { "flag", "", "x", "" })]
    [TestCase("bad=%zz%4&pct=100%", new[] { "bad", "%zz%4", "pct", "100%" })]
    [TestCase("k%3D=v%3D%3D", new[] { "k=", "v==" })]
    [TestCase("utf=%C3%A9t%C3%A9+%E2%82%AC", new[] { "utf", "été €" })]
    public async Task Edge_cases_follow_the_form_rules(string wire, string[] expected)
    {
        var pairs = await ReadAll(new TrickleStream(Encoding.ASCII.GetBytes(wire)));
        Assert.That(pairs.SelectMany(p => new[] { p.Key, p.Value }), Is.EqualTo(expected));
    }

    [Test]
    public async Task Skipped_values_are_never_kept_and_kept_ones_arrive_whole()
    {
        string big = new('x', 300_000);
        byte[] wire = Encoding.ASCII.GetBytes($"body-mime={big}&token=abc");
        var seen = new List<string>();
        await UrlEncodedFormReader.ReadAsync(new MemoryStream(wire), key => key == "token" ? new MemoryStream() : null,
            (key, sink) => seen.Add(key + ":" + (sink is MemoryStream m ? Encoding.UTF8.GetString(m.ToArray()) : "skipped")), CancellationToken.None);
        Assert.That(seen, Is.EqualTo(new[] { "body-mime:skipped", "token:abc" }));
    }

    [Test]
    public void Overlong_key_is_invalid_data()
    {
        byte[] wire = Encoding.ASCII.GetBytes(new string('k', 10_000) + "=1");
        Assert.ThrowsAsync<InvalidDataException>(() => ReadAll(new MemoryStream(wire)));
    }

    [FsCheck.NUnit.Property(MaxTest = 200)]
    public bool Reads_what_dotnets_encoder_wrote_like_aspnetcores_form_reader(NonEmptyString[] keys, NonNull<string>[] values)
    {
        // Lone surrogates cannot be encoded as UTF-8 at all: replace them the way UTF-8 encoding does first.
        static string Valid(string s) => Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(s));
        var list = keys.Zip(values, (k, v) => (Valid(k.Get), Valid(v.Get))).ToList();
        {
            var (body, _) = InboundPost.UrlEncoded(list.Select(p => new KeyValuePair<string, string>(p.Item1, p.Item2)));
            var ours = ReadAll(new TrickleStream(body)).GetAwaiter().GetResult();
            // ASP.NET Core's reader is the reference (it keeps every value in memory, which is why we do not use it).
            var reference = new List<(string, string)>();
            var reader = new FormReader(Encoding.UTF8.GetString(body));
            while (reader.ReadNextPair() is { } pair)
            {
                reference.Add((pair.Key, pair.Value));
            }

            return ours.SequenceEqual(reference);
        }
    }
}
