using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace MailgunFunctions.Testing;

/// <summary>
/// A tiny authoritative DNS responder over UDP on 127.0.0.1 (a free port): answers A, MX, TXT and CNAME for the
/// names it is given, NOERROR with no answers for a known name without that type, NXDOMAIN for any other name
/// (RFC 1035 message format, answers point back at the question name).
/// </summary>
public sealed class TestDnsServer : IAsyncDisposable
{
    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<(string Name, ushort Type), List<byte[]>> _records = [];
    private readonly HashSet<string> _names = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _gate = new();
    private readonly Task _loop;

    public TestDnsServer()
    {
        _loop = Task.Run(ServeAsync);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_udp.Client.LocalEndPoint!;

    public string Address => $"127.0.0.1:{EndPoint.Port}";

    public int Queries { get; private set; }

    public TestDnsServer A(string name, string ip) => Add(name, 1, IPAddress.Parse(ip).GetAddressBytes());

    public TestDnsServer Mx(string name, string exchange, ushort preference = 10)
    {
        var data = new List<byte>();
        data.AddRange([(byte)(preference >> 8), (byte)preference]);
        data.AddRange(EncodeName(exchange));
        return Add(name, 15, data.ToArray());
    }

    public TestDnsServer Txt(string name, params string[] strings)
    {
        var data = new List<byte>();
        foreach (string s in strings)
        {
            byte[] bytes = Encoding.ASCII.GetBytes(s);
            data.Add((byte)bytes.Length);
            data.AddRange(bytes);
        }

        return Add(name, 16, data.ToArray());
    }

    public TestDnsServer Cname(string name, string target) => Add(name, 5, EncodeName(target));

    public void Clear()
    {
        lock (_gate)
        {
            _records.Clear();
            _names.Clear();
        }
    }

    private TestDnsServer Add(string name, ushort type, byte[] data)
    {
        lock (_gate)
        {
            string key = name.TrimEnd('.').ToLowerInvariant();
            _names.Add(key);
            if (!_records.TryGetValue((key, type), out var list))
            {
                _records[(key, type)] = list = [];
            }

            list.Add(data);
        }

        return this;
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult request;
            try
            {
                request = await _udp.ReceiveAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            byte[]? answer = Answer(request.Buffer);
            if (answer is not null)
            {
                await _udp.SendAsync(answer, request.RemoteEndPoint, _stop.Token);
            }
        }
    }

    private byte[]? Answer(byte[] query)
    {
        if (query.Length < 12)
        {
            return null;
        }

        Queries++;
        int offset = 12;
        var labels = new List<string>();
        while (offset < query.Length && query[offset] != 0)
        {
            int length = query[offset];
            labels.Add(Encoding.ASCII.GetString(query, offset + 1, length));
            offset += length + 1;
        }

        offset++; // the root label
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(offset));
        int questionEnd = offset + 4;
        string name = string.Join('.', labels).ToLowerInvariant();
        List<byte[]> answers;
        bool known;
        lock (_gate)
        {
            known = _names.Contains(name);
            answers = _records.TryGetValue((name, type), out var list) ? [.. list] : [];
        }

        var response = new List<byte>();
        response.AddRange(query.AsSpan(0, 2).ToArray()); // id
        // QR=1, opcode 0, AA=1, RD copied; RA=1; RCODE 3 (NXDOMAIN) for unknown names.
        response.Add((byte)(0x84 | (query[2] & 0x01)));
        response.Add((byte)(0x80 | (known ? 0 : 3)));
        response.AddRange([0, 1, (byte)(answers.Count >> 8), (byte)answers.Count, 0, 0, 0, 0]);
        response.AddRange(query.AsSpan(12, questionEnd - 12).ToArray());
        foreach (byte[] data in answers)
        {
            response.AddRange([0xC0, 0x0C, (byte)(type >> 8), (byte)type, 0, 1, 0, 0, 0, 60, (byte)(data.Length >> 8), (byte)data.Length]);
            response.AddRange(data);
        }

        return response.ToArray();
    }

    private static byte[] EncodeName(string name)
    {
        var bytes = new List<byte>();
        foreach (string label in name.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.Add(0);
        return bytes.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp.Dispose();
        try
        {
            await _loop;
        }
        catch (ObjectDisposedException)
        {
            // The socket was closed under the pending receive.
        }

        _stop.Dispose();
    }
}
