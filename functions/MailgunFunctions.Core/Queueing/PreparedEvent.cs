using System.Buffers;
using MailgunFunctions.Webhooks;

namespace MailgunFunctions.Queueing;

/// <summary>
/// The outcome of <c>Ingestion.EventWebhookIntake.Prepare</c>: either a <see cref="Rejection"/>, or an envelope ready
/// to queue. The envelope bytes live in a pooled buffer: dispose once the envelope is sent.
/// </summary>
public sealed class PreparedEvent : IDisposable
{
    private byte[]? _buffer;

    internal PreparedEvent(IntakeResult rejection) => Rejection = rejection;

    internal PreparedEvent(EnvelopeHeader header, byte[] buffer, int length, ReadOnlyMemory<byte> eventDataJson)
    {
        Header = header;
        _buffer = buffer;
        EnvelopeJson = buffer.AsMemory(0, length);
        EventDataJson = eventDataJson;
    }

    public IntakeResult? Rejection { get; }

    public EnvelopeHeader? Header { get; }

    /// <summary>The envelope as UTF-8 JSON, event-data included.</summary>
    public ReadOnlyMemory<byte> EnvelopeJson { get; }

    /// <summary>The event-data exactly as Mailgun sent it (a slice of the request body).</summary>
    public ReadOnlyMemory<byte> EventDataJson { get; }

    public void Dispose()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>An <see cref="IBufferWriter{T}"/> over arrays rented from the shared pool.</summary>
internal sealed class PooledBufferWriter(int initialCapacity) : IBufferWriter<byte>
{
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);

    public int Written { get; private set; }

    /// <summary>Hands the buffer over to the caller, who must return it to the pool.</summary>
    public byte[] Detach()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        return buffer;
    }

    public void Advance(int count) => Written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(Written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(Written);
    }

    private void Ensure(int sizeHint)
    {
        if (_buffer.Length - Written >= Math.Max(sizeHint, 1))
        {
            return;
        }

        byte[] bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, Written + Math.Max(sizeHint, 256)));
        _buffer.AsSpan(0, Written).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }
}
