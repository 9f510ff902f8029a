using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Predastore.LoadDriver;

/// <summary>An object this run wrote and may read back: enough to know what a correct read returns.</summary>
internal sealed record StoredObject(string Key, long Size, int Start, UInt128 Hash);

/// <summary>
/// One run: create the bucket, write the objects a read workload needs, run N clients until the duration or the
/// operation count is reached, verify every read, delete everything created, and build the report.
/// </summary>
internal sealed class LoadRunner
{
    public const string Put = "PUT";
    public const string Get = "GET";
    public const string Range = "RANGE";
    public const string Multipart = "MPU";
    public const string Part = "PART";

    private readonly DriverOptions _options;
    private readonly TextWriter? _progress;
    private readonly HttpMessageHandler? _handler;
    private readonly ContentPool _pool;
    private readonly string _runId = Guid.NewGuid().ToString("N")[..12];
    private readonly List<StoredObject> _readable = [];
    private readonly Lock _readableLock = new();
    private readonly ConcurrentDictionary<string, byte> _created = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _openUploads = new(StringComparer.Ordinal);
    private long _issued;
    private long _sequence;

    /// <param name="options">What to run.</param>
    /// <param name="progress">Where plain progress lines go; null when a live display shows progress instead.</param>
    /// <param name="handler">Internal for testing: the HTTP handler under the S3 client (e.g. one that corrupts reads).</param>
    public LoadRunner(DriverOptions options, TextWriter? progress, HttpMessageHandler? handler = null)
    {
        _options = options;
        _progress = progress;
        _handler = handler;
        _pool = new ContentPool(options.Seed);
        Bucket = options.Bucket ?? $"predastore-load-{_runId}";
        Prefix = options.Prefix ?? $"load/{_runId}/";
        Metrics = new Metrics([Put, Get, Range, Multipart, Part]);
    }

    public string Bucket { get; }

    public string Prefix { get; }

    /// <summary>The measured phase's metrics (empty until it starts).</summary>
    public Metrics Metrics { get; private set; }

    public string Phase { get; private set; } = "starting";

    public async Task<LoadReport> RunAsync(CancellationToken stop = default)
    {
        DateTimeOffset started = DateTimeOffset.UtcNow;
        SigV4Signer? signer = _options.Anonymous ? null : new SigV4Signer(_options.AccessKey!, _options.SecretKey!, _options.Region);
        using var client = new S3Client(_options.Endpoint, signer, _options.RequestTimeout, _options.Insecure, _handler);
        bool bucketCreated = false;
        if (!_options.BucketExists)
        {
            Log($"bucket {Bucket}");
            bucketCreated = await client.CreateBucketAsync(Bucket, stop).ConfigureAwait(false);
        }

        double prepareSeconds = 0;
        long prepared = 0;
        var cleanup = new CleanupSummary();
        double seconds;
        try
        {
            if (_options.Workload is Workload.Get or Workload.Range || (_options.Workload == Workload.Mixed && (Weight(Workload.Get) + Weight(Workload.Range)) > 0))
            {
                Phase = "prepare";
                Log($"prepare: writing {_options.PreparedObjects} objects ({_options.Sizes.Text}) with {_options.Clients} clients");
                var watch = Stopwatch.StartNew();
                prepared = await PrepareAsync(client, stop).ConfigureAwait(false);
                prepareSeconds = watch.Elapsed.TotalSeconds;
            }

            Phase = "run";
            Metrics = new Metrics([Put, Get, Range, Multipart, Part]);
            Log($"run: {_options.Workload.ToString().ToLowerInvariant()}, {_options.Clients} clients, sizes {_options.Sizes.Text}, " +
                (_options.Count is long count ? $"{count} operations" : $"{_options.Duration!.Value.TotalSeconds:0.#} s"));
            seconds = await MeasureAsync(client, stop).ConfigureAwait(false);
        }
        finally
        {
            Phase = "cleanup";
            if (_options.Cleanup)
            {
                await CleanupAsync(client, bucketCreated, cleanup).ConfigureAwait(false);
                Log($"cleanup: {cleanup.ObjectsDeleted} objects deleted, {cleanup.UploadsAborted} uploads aborted, bucket deleted: {cleanup.BucketDeleted}, {cleanup.Errors} errors");
            }
            else
            {
                cleanup.Skipped = true;
            }

            Phase = "done";
        }

        List<OperationSummary> results = [.. Metrics.Operations.Select(o => o.Summary(seconds)).Where(r => r.Count + r.Errors > 0 || IsMain(r.Operation))];

        // PART bytes are inside MPU bytes: count them once.
        List<OperationSummary> counted = [.. results.Where(r => r.Operation != Part)];
        long bytes = counted.Sum(r => r.Bytes);
        var report = new LoadReport
        {
            Endpoint = _options.Endpoint.ToString(),
            Bucket = Bucket,
            Workload = _options.Workload.ToString().ToLowerInvariant(),
            Clients = _options.Clients,
            Sizes = _options.Sizes.Text,
            StartedAt = started,
            Machine = $"{Environment.MachineName}, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}",
            DurationSeconds = Math.Round(seconds, 3),
            PreparedObjects = prepared,
            PrepareSeconds = Math.Round(prepareSeconds, 3),
            Operations = counted.Sum(r => r.Count),
            Errors = results.Sum(r => r.Errors),
            VerifyFailures = Metrics.VerifyFailures,
            Bytes = bytes,
            MegabytesPerSecond = seconds > 0 ? Math.Round(bytes / 1e6 / seconds, 3) : 0,
            Results = results,
            ErrorMessages = [.. Metrics.ErrorMessages],
            Cleanup = cleanup,
            Timeline = [.. Metrics.Timeline],
        };
        report.WriteJson(_options.JsonPath);
        report.WriteHtml(_options.HtmlPath);
        return report;
    }

    private bool IsMain(string operation) => _options.Workload switch
    {
        Workload.Put => operation == Put,
        Workload.Get => operation == Get,
        Workload.Range => operation == Range,
        Workload.Multipart => operation is Multipart or Part,
        _ => Weight(operation switch { Put => Workload.Put, Get => Workload.Get, Range => Workload.Range, _ => Workload.Multipart }) > 0,
    };

    private double Weight(Workload workload) => _options.Mix.GetValueOrDefault(workload);

    private async Task<long> PrepareAsync(S3Client client, CancellationToken stop)
    {
        var metrics = new Metrics([Put]);
        int next = -1;
        int total = _options.PreparedObjects;
        var clients = new Task[Math.Min(_options.Clients, total)];
        for (int c = 0; c < clients.Length; c++)
        {
            int id = c;
            clients[c] = Task.Run(
                async () =>
                {
                    var random = new Random(HashCode.Combine(_options.Seed, id, "prepare"));
                    while (Interlocked.Increment(ref next) < total && !stop.IsCancellationRequested)
                    {
                        await PutOneAsync(client, id, random, metrics, stop).ConfigureAwait(false);
                    }
                },
                stop);
        }

        await Task.WhenAll(clients).ConfigureAwait(false);
        OperationSummary summary = metrics.Operations.Single().Summary(metrics.ElapsedSeconds);
        if (summary.Errors > 0)
        {
            throw new InvalidOperationException($"prepare: {summary.Errors} of {total} PUTs failed: {string.Join("; ", metrics.ErrorMessages.Take(3))}");
        }

        Log($"prepare: {summary.Count} objects, {summary.MegabytesPerSecond:0.0} MB/s");
        return summary.Count;
    }

    private async Task<double> MeasureAsync(S3Client client, CancellationToken stop)
    {
        long deadline = _options.Duration is TimeSpan d ? Stopwatch.GetTimestamp() + (long)(d.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        bool Next() =>
            !stop.IsCancellationRequested
            && Stopwatch.GetTimestamp() < deadline
            && (_options.Count is not long count || Interlocked.Increment(ref _issued) <= count);

        Metrics metrics = Metrics;
        using var sampling = new CancellationTokenSource();
        Task sampler = SampleAsync(metrics, sampling.Token);
        var clients = new Task[_options.Clients];
        for (int c = 0; c < clients.Length; c++)
        {
            int id = c;
            clients[c] = Task.Run(() => ClientAsync(client, id, metrics, Next, stop), CancellationToken.None);
        }

        await Task.WhenAll(clients).ConfigureAwait(false);
        metrics.Stop();
        double seconds = metrics.ElapsedSeconds;
        await sampling.CancelAsync().ConfigureAwait(false);
        await sampler.ConfigureAwait(false);
        return seconds;
    }

    private async Task SampleAsync(Metrics metrics, CancellationToken done)
    {
        using var timer = new PeriodicTimer(_options.Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(done).ConfigureAwait(false))
            {
                PrintProgress(metrics.ElapsedSeconds, metrics.Sample());
            }
        }
        catch (OperationCanceledException)
        {
            // The run is over: close the last, partial interval.
            PrintProgress(metrics.ElapsedSeconds, metrics.Sample());
        }
    }

    private void PrintProgress(double elapsed, IReadOnlyList<TimelinePoint> points)
    {
        if (_progress is null)
        {
            return;
        }

        foreach (TimelinePoint p in points.Where(p => p.Ops + p.Errors > 0))
        {
            _progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{elapsed,7:0.0}s {p.Operation,-5} {p.MegabytesPerSecond,9:0.0} MB/s {p.OpsPerSecond,8:0.0} ops/s  p50 {p.P50Ms,8:0.00} ms  p99 {p.P99Ms,8:0.00} ms  errors {p.Errors}"));
        }
    }

    private async Task ClientAsync(S3Client client, int id, Metrics metrics, Func<bool> next, CancellationToken stop)
    {
        var random = new Random(HashCode.Combine(_options.Seed, id));
        byte[] buffer = GC.AllocateUninitializedArray<byte>(256 * 1024);
        while (next())
        {
            Workload workload = _options.Workload == Workload.Mixed ? PickMixed(random) : _options.Workload;
            switch (workload)
            {
                case Workload.Put:
                    await PutOneAsync(client, id, random, metrics, stop).ConfigureAwait(false);
                    break;
                case Workload.Get:
                    await GetOneAsync(client, random, buffer, metrics, ranged: false, stop).ConfigureAwait(false);
                    break;
                case Workload.Range:
                    await GetOneAsync(client, random, buffer, metrics, ranged: true, stop).ConfigureAwait(false);
                    break;
                default:
                    await MultipartOneAsync(client, id, random, metrics, stop).ConfigureAwait(false);
                    break;
            }
        }
    }

    private Workload PickMixed(Random random)
    {
        double u = random.NextDouble() * _options.Mix.Values.Sum();
        foreach ((Workload w, double weight) in _options.Mix)
        {
            if ((u -= weight) < 0)
            {
                return w;
            }
        }

        return _options.Mix.Keys.Last();
    }

    private string NewKey(int client) =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}{client:D3}-{Interlocked.Increment(ref _sequence):D8}");

    private async Task PutOneAsync(S3Client client, int id, Random random, Metrics metrics, CancellationToken stop)
    {
        string key = NewKey(id);
        long size = _options.Sizes.Next(random);
        int start = _pool.StartOf(key);
        _created[key] = 0;
        using var content = new PoolContent(_pool, start, 0, size);
        long t0 = Stopwatch.GetTimestamp();
        try
        {
            await client.PutObjectAsync(Bucket, key, content, stop).ConfigureAwait(false);
            metrics.Record(Put, t0, size);
            AddReadable(new StoredObject(key, size, start, content.SentHash));
        }
        catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            metrics.RecordError(Put, e.Message);
        }
    }

    private async Task GetOneAsync(S3Client client, Random random, byte[] buffer, Metrics metrics, bool ranged, CancellationToken stop)
    {
        StoredObject o = PickReadable(random);
        string op = ranged ? Range : Get;
        long offset = 0, length = o.Size;
        UInt128 expected = o.Hash;
        if (ranged && o.Size > 0)
        {
            length = Math.Min(_options.RangeSize, o.Size);
            offset = random.NextInt64(0, o.Size - length + 1);
            expected = _pool.Hash(o.Start, offset, length);
        }

        long t0 = Stopwatch.GetTimestamp();
        try
        {
            ReadResult read = await client.GetObjectAsync(Bucket, o.Key, ranged && o.Size > 0 ? offset : null, length, buffer, stop).ConfigureAwait(false);
            if (read.Length != length || read.Hash != expected)
            {
                metrics.RecordError(op, $"verification failed: {o.Key} [{offset}, {offset + length}): got {read.Length} bytes, hash {read.Hash:x32}, expected {length} bytes, hash {expected:x32}", verification: true);
                return;
            }

            metrics.Record(op, t0, length);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            metrics.RecordError(op, e.Message);
        }
    }

    private async Task MultipartOneAsync(S3Client client, int id, Random random, Metrics metrics, CancellationToken stop)
    {
        string key = NewKey(id);
        long size = _options.Sizes.Next(random);
        int start = _pool.StartOf(key);
        _created[key] = 0;
        long t0 = Stopwatch.GetTimestamp();
        string? uploadId = null;
        try
        {
            uploadId = await client.CreateMultipartUploadAsync(Bucket, key, stop).ConfigureAwait(false);
            _openUploads[uploadId] = key;
            var etags = new List<string>();
            long offset = 0;
            do
            {
                long length = Math.Min(_options.PartSize, size - offset);
                using var content = new PoolContent(_pool, start, offset, length);
                long p0 = Stopwatch.GetTimestamp();
                etags.Add(await client.UploadPartAsync(Bucket, key, uploadId, etags.Count + 1, content, stop).ConfigureAwait(false));
                metrics.Record(Part, p0, length);
                offset += length;
            }
            while (offset < size);

            await client.CompleteMultipartUploadAsync(Bucket, key, uploadId, etags, stop).ConfigureAwait(false);
            _openUploads.TryRemove(uploadId, out _);
            metrics.Record(Multipart, t0, size);
            AddReadable(new StoredObject(key, size, start, _pool.Hash(start, 0, size)));
        }
        catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            metrics.RecordError(Multipart, e.Message);
        }
    }

    private void AddReadable(StoredObject o)
    {
        lock (_readableLock)
        {
            _readable.Add(o);
        }
    }

    private StoredObject PickReadable(Random random)
    {
        lock (_readableLock)
        {
            return _readable[random.Next(_readable.Count)];
        }
    }

    private async Task CleanupAsync(S3Client client, bool bucketCreated, CleanupSummary summary)
    {
        // Not the run's token: a Ctrl-C that stopped the run must still leave nothing behind.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        CancellationToken token = timeout.Token;
        long deleted = 0, aborted = 0, errors = 0;
        foreach ((string uploadId, string key) in _openUploads)
        {
            try
            {
                await client.AbortMultipartUploadAsync(Bucket, key, uploadId, token).ConfigureAwait(false);
                aborted++;
            }
            catch (S3RequestException)
            {
                errors++;
            }
        }

        await Parallel.ForEachAsync(
            _created.Keys,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(4, _options.Clients), CancellationToken = token },
            async (key, ct) =>
            {
                try
                {
                    await client.DeleteObjectAsync(Bucket, key, ct).ConfigureAwait(false);
                    Interlocked.Increment(ref deleted);
                }
                catch (S3RequestException)
                {
                    Interlocked.Increment(ref errors);
                }
            }).ConfigureAwait(false);
        if (bucketCreated)
        {
            try
            {
                await client.DeleteBucketAsync(Bucket, token).ConfigureAwait(false);
                summary.BucketDeleted = true;
            }
            catch (S3RequestException)
            {
                errors++;
            }
        }

        summary.ObjectsDeleted = deleted;
        summary.UploadsAborted = aborted;
        summary.Errors = errors;
    }

    private void Log(string message) => _progress?.WriteLine(message);
}
