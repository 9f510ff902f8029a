using System.Diagnostics;

namespace Predastore.LoadDriver;

/// <summary>Counters and latencies of one kind of operation, for the whole run and for the current interval.</summary>
internal sealed class OperationStats
{
    private readonly Lock _lock = new();
    private readonly LatencyHistogram _total = new();
    private readonly LatencyHistogram _interval = new();
    private long _bytes;
    private long _errors;
    private long _intervalBytes;
    private long _intervalErrors;

    public OperationStats(string name) => Name = name;

    public string Name { get; }

    public void Record(long micros, long bytes, bool ok)
    {
        lock (_lock)
        {
            if (ok)
            {
                _total.Record(micros);
                _interval.Record(micros);
                _bytes += bytes;
                _intervalBytes += bytes;
            }
            else
            {
                _errors++;
                _intervalErrors++;
            }
        }
    }

    /// <summary>The interval's figures; starts the next interval.</summary>
    public TimelinePoint TakeInterval(double at, double seconds)
    {
        lock (_lock)
        {
            var point = new TimelinePoint
            {
                Seconds = Math.Round(at, 3),
                Operation = Name,
                Ops = _interval.Count,
                Errors = _intervalErrors,
                MegabytesPerSecond = Math.Round(_intervalBytes / 1e6 / seconds, 3),
                OpsPerSecond = Math.Round(_interval.Count / seconds, 3),
                P50Ms = Millis(_interval.Percentile(50)),
                P99Ms = Millis(_interval.Percentile(99)),
                MaxMs = Millis(_interval.Max),
            };
            _interval.Clear();
            _intervalBytes = 0;
            _intervalErrors = 0;
            return point;
        }
    }

    public OperationSummary Summary(double seconds)
    {
        lock (_lock)
        {
            return new OperationSummary
            {
                Operation = Name,
                Count = _total.Count,
                Errors = _errors,
                Bytes = _bytes,
                MegabytesPerSecond = seconds > 0 ? Math.Round(_bytes / 1e6 / seconds, 3) : 0,
                OpsPerSecond = seconds > 0 ? Math.Round(_total.Count / seconds, 3) : 0,
                MeanMs = _total.Count > 0 ? Math.Round(_total.Sum / (double)_total.Count / 1000.0, 3) : 0,
                P50Ms = Millis(_total.Percentile(50)),
                P90Ms = Millis(_total.Percentile(90)),
                P99Ms = Millis(_total.Percentile(99)),
                MaxMs = Millis(_total.Max),
            };
        }
    }

    private static double Millis(long micros) => Math.Round(micros / 1000.0, 3);
}

/// <summary>Every operation's stats, the timeline, and the first errors of a run.</summary>
internal sealed class Metrics
{
    public const int MaxErrorMessages = 50;
    private readonly Dictionary<string, OperationStats> _operations = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly List<TimelinePoint> _timeline = [];
    private readonly List<string> _errorMessages = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private double _lastSample;
    private long _verifyFailures;

    public Metrics(IEnumerable<string> operations)
    {
        foreach (string name in operations)
        {
            _operations[name] = new OperationStats(name);
        }
    }

    public IReadOnlyCollection<OperationStats> Operations => _operations.Values;

    public double ElapsedSeconds => _clock.Elapsed.TotalSeconds;

    public long VerifyFailures => Interlocked.Read(ref _verifyFailures);

    /// <summary>Freezes <see cref="ElapsedSeconds"/>: rates after the run (cleanup) are over the measured time only.</summary>
    public void Stop() => _clock.Stop();

    public IReadOnlyList<string> ErrorMessages
    {
        get
        {
            lock (_lock)
            {
                return [.. _errorMessages];
            }
        }
    }

    public IReadOnlyList<TimelinePoint> Timeline
    {
        get
        {
            lock (_lock)
            {
                return [.. _timeline];
            }
        }
    }

    public void Record(string operation, long startTimestamp, long bytes) =>
        _operations[operation].Record((long)Stopwatch.GetElapsedTime(startTimestamp).TotalMicroseconds, bytes, ok: true);

    public void RecordError(string operation, string message, bool verification = false)
    {
        _operations[operation].Record(0, 0, ok: false);
        if (verification)
        {
            Interlocked.Increment(ref _verifyFailures);
        }

        lock (_lock)
        {
            if (_errorMessages.Count < MaxErrorMessages)
            {
                _errorMessages.Add($"{ElapsedSeconds:0.000}s {operation}: {message}");
            }
        }
    }

    /// <summary>Closes the current interval of every operation and adds it to the timeline; returns the new points.</summary>
    public IReadOnlyList<TimelinePoint> Sample()
    {
        lock (_lock)
        {
            double now = ElapsedSeconds;
            double seconds = Math.Max(now - _lastSample, 1e-3);
            _lastSample = now;
            var points = _operations.Values.Select(o => o.TakeInterval(now, seconds)).ToList();
            _timeline.AddRange(points);
            return points;
        }
    }
}
