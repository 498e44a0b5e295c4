namespace MailgunFunctions.Inbound;

/// <summary>
/// Streams an <c>application/x-www-form-urlencoded</c> body pair by pair without holding values in memory:
/// each value is percent-decoded straight into the sink its key asks for (or dropped). ASP.NET Core's
/// FormReader would materialise a 25 MB <c>body-mime</c> as one string. Decoding follows the form rules
/// exactly once: <c>+</c> is a space, <c>%XX</c> a byte, an invalid escape stays literal.
/// </summary>
public static class UrlEncodedFormReader
{
    private const int MaxKeyBytes = 1024;

    /// <summary>
    /// Reads every pair of <paramref name="body"/>. <paramref name="sinkFor"/> gets the decoded key and returns the
    /// stream that receives the decoded value bytes, or null to skip the value; <paramref name="completed"/> is
    /// called after each value with the key and its sink.
    /// </summary>
    public static async Task ReadAsync(Stream body, Func<string, Stream?> sinkFor, Action<string, Stream?> completed, CancellationToken cancellationToken)
    {
        byte[] input = new byte[64 * 1024];
        var decoder = new PercentDecoder();
        var key = new MemoryStream();
        bool inKey = true;
        string currentKey = "";
        Stream? sink = null;
        bool any = false;
        int keyBytes = 0;

        while (true)
        {
            int read = await body.ReadAsync(input, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            int start = 0;
            for (int i = 0; i < read; i++)
            {
                byte b = input[i];
                if (b == (byte)'&')
                {
                    Feed(input.AsSpan(start, i - start));
                    EndPair();
                    start = i + 1;
                }
                else if (b == (byte)'=' && inKey)
                {
                    Feed(input.AsSpan(start, i - start));
                    decoder.Flush(key);
                    currentKey = System.Text.Encoding.UTF8.GetString(key.GetBuffer(), 0, (int)key.Length);
                    key.SetLength(0);
                    sink = sinkFor(currentKey);
                    inKey = false;
                    start = i + 1;
                }
            }

            Feed(input.AsSpan(start, read - start));
        }

        EndPair();

        void Feed(ReadOnlySpan<byte> chunk)
        {
            if (chunk.IsEmpty)
            {
                return;
            }

            any = true;
            if (inKey)
            {
                keyBytes += chunk.Length;
                if (keyBytes > MaxKeyBytes * 3)
                {
                    throw new InvalidDataException($"a form key is longer than {MaxKeyBytes} bytes");
                }

                decoder.Decode(chunk, key);
            }
            else
            {
                decoder.Decode(chunk, sink);
            }
        }

        void EndPair()
        {
            if (!any && inKey)
            {
                return; // "&&" or a trailing "&": no pair
            }

            if (inKey)
            {
                // A key without "=" has an empty value.
                decoder.Flush(key);
                currentKey = System.Text.Encoding.UTF8.GetString(key.GetBuffer(), 0, (int)key.Length);
                key.SetLength(0);
                sink = sinkFor(currentKey);
            }
            else
            {
                decoder.Flush(sink);
            }

            completed(currentKey, sink);
            keyBytes = 0;
            inKey = true;
            sink = null;
            any = false;
        }
    }

    /// <summary>Percent-decoding that survives escapes split across read boundaries.</summary>
    private sealed class PercentDecoder
    {
        private readonly byte[] _output = new byte[16 * 1024];
        private int _outputCount;
        private int _state; // 0 plain, 1 after '%', 2 after '%' and one hex digit
        private byte _high;

        public void Decode(ReadOnlySpan<byte> chunk, Stream? sink)
        {
            foreach (byte b in chunk)
            {
                Step(b, sink);
            }
        }

        public void Flush(Stream? sink)
        {
            EmitPendingLiterally(sink);
            if (_outputCount > 0)
            {
                sink?.Write(_output, 0, _outputCount);
                _outputCount = 0;
            }
        }

        private void Step(byte b, Stream? sink)
        {
            if (_state == 1)
            {
                if (IsHex(b))
                {
                    _high = b;
                    _state = 2;
                    return;
                }

                EmitPendingLiterally(sink);
            }
            else if (_state == 2)
            {
                if (IsHex(b))
                {
                    Emit((byte)((HexValue(_high) << 4) | HexValue(b)), sink);
                    _state = 0;
                    return;
                }

                EmitPendingLiterally(sink);
            }

            if (b == (byte)'%')
            {
                _state = 1;
                return;
            }

            Emit(b == (byte)'+' ? (byte)' ' : b, sink);
        }

        private void EmitPendingLiterally(Stream? sink)
        {
            if (_state >= 1)
            {
                Emit((byte)'%', sink);
            }

            if (_state == 2)
            {
                Emit(_high, sink);
            }

            _state = 0;
        }

        private void Emit(byte b, Stream? sink)
        {
            _output[_outputCount++] = b;
            if (_outputCount == _output.Length)
            {
                sink?.Write(_output, 0, _outputCount);
                _outputCount = 0;
            }
        }

        private static bool IsHex(byte b) => b is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F';

        private static int HexValue(byte b) => b <= (byte)'9' ? b - '0' : (b | 0x20) - 'a' + 10;
    }
}
