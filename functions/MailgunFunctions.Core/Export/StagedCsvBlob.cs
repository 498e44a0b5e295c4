using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace MailgunFunctions.Export;

/// <summary>
/// Writes one file of an export folder the way the lists are written: lines gather into blocks of at most
/// <c>blockSizeBytes</c> staged on <c>_partial/{file}</c> (memory stays flat for any number of lines; staged blocks stay
/// invisible), and only <see cref="CommitAsync"/> makes the complete file appear under its final name. A run that dies
/// leaves no final file, and the rerun writes the file again from the start (block ids carry a fresh prefix).
/// </summary>
internal sealed class StagedCsvBlob : IAsyncDisposable
{
    private readonly BlockBlobClient _partial;
    private readonly BlobClient _final;
    private readonly int _blockSizeBytes;
    private readonly string _contentType;
    private readonly string _attempt = Guid.NewGuid().ToString("N")[..12];
    private readonly List<string> _blocks = [];
    private readonly MemoryStream _buffer = new();
    private readonly StreamWriter _writer;

    public StagedCsvBlob(BlobContainerClient container, string partialName, string finalName, int blockSizeBytes, string contentType = "text/csv; charset=utf-8")
    {
        _partial = container.GetBlockBlobClient(partialName);
        _final = container.GetBlobClient(finalName);
        _blockSizeBytes = blockSizeBytes;
        _contentType = contentType;
        _writer = new StreamWriter(_buffer, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 16 * 1024, leaveOpen: true);
    }

    public string FinalName => _final.Name;

    public async Task WriteAsync(string text, CancellationToken cancellationToken)
    {
        await _writer.WriteAsync(text.AsMemory(), cancellationToken).ConfigureAwait(false);
        // The writer spills into the buffer every 16 KiB, so a block overshoots the size by at most that.
        if (_buffer.Length >= _blockSizeBytes)
        {
            await StageAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Commits every staged block, copies the complete file to its final name and deletes the partial blob.</summary>
    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        await StageAsync(cancellationToken).ConfigureAwait(false);
        await _partial.CommitBlockListAsync(_blocks, new CommitBlockListOptions { HttpHeaders = new BlobHttpHeaders { ContentType = _contentType } }, cancellationToken).ConfigureAwait(false);
        var copy = await _final.StartCopyFromUriAsync(_partial.Uri, cancellationToken: cancellationToken).ConfigureAwait(false);
        await copy.WaitForCompletionAsync(cancellationToken).ConfigureAwait(false);
        await _partial.DeleteIfExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _writer.DisposeAsync().ConfigureAwait(false);
        await _buffer.DisposeAsync().ConfigureAwait(false);
    }

    private async Task StageAsync(CancellationToken cancellationToken)
    {
        await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (_buffer.Length == 0 && _blocks.Count > 0)
        {
            return;
        }

        // Every block id of a blob must have the same length; the attempt prefix keeps a rerun's ids apart from a dead run's.
        string id = Convert.ToBase64String(Encoding.ASCII.GetBytes($"{_attempt}-{_blocks.Count:D8}"));
        _buffer.Position = 0;
        await _partial.StageBlockAsync(id, _buffer, cancellationToken: cancellationToken).ConfigureAwait(false);
        _blocks.Add(id);
        _buffer.SetLength(0);
    }
}
