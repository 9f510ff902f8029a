using System.Globalization;

namespace Predastore.LoadDriver;

internal enum Workload
{
    Put,
    Get,
    Range,
    Multipart,
    Mixed,
}

/// <summary>Object sizes: one size, a log-uniform range "MIN..MAX", or weighted sizes "1MiB:3,64MiB:1".</summary>
internal sealed class SizeDistribution
{
    private readonly long[] _sizes;
    private readonly double[] _cumulative;
    private readonly bool _range;

    private SizeDistribution(string text, long[] sizes, double[] cumulative, bool range)
    {
        Text = text;
        _sizes = sizes;
        _cumulative = cumulative;
        _range = range;
    }

    public string Text { get; }

    public long Max => _sizes.Max();

    public static SizeDistribution Parse(string text)
    {
        if (text.Contains("..", StringComparison.Ordinal))
        {
            string[] ends = text.Split("..");
            long min = ParseBytes(ends[0]), max = ParseBytes(ends[1]);
            if (ends.Length != 2 || min < 1 || max < min)
            {
                throw new ArgumentException($"--size {text}: expected MIN..MAX with 1 <= MIN <= MAX");
            }

            return new SizeDistribution(text, [min, max], [], range: true);
        }

        var sizes = new List<long>();
        var weights = new List<double>();
        foreach (string part in text.Split(','))
        {
            string[] pair = part.Split(':');
            sizes.Add(ParseBytes(pair[0]));
            weights.Add(pair.Length > 1 ? double.Parse(pair[1], CultureInfo.InvariantCulture) : 1);
        }

        if (sizes.Any(s => s < 0) || weights.Any(w => w <= 0))
        {
            throw new ArgumentException($"--size {text}: sizes must be >= 0 and weights > 0");
        }

        double total = weights.Sum(), sum = 0;
        return new SizeDistribution(text, [.. sizes], [.. weights.Select(w => (sum += w) / total)], range: false);
    }

    public long Next(Random random)
    {
        if (_range)
        {
            double logMin = Math.Log(_sizes[0]), logMax = Math.Log(_sizes[1]);
            return (long)Math.Round(Math.Exp(logMin + (random.NextDouble() * (logMax - logMin))));
        }

        double u = random.NextDouble();
        for (int i = 0; i < _sizes.Length; i++)
        {
            if (u < _cumulative[i])
            {
                return _sizes[i];
            }
        }

        return _sizes[^1];
    }

    /// <summary>"64KiB", "1MiB", "1.5GiB", "4096", "1MB" (decimal), "1M" (binary).</summary>
    public static long ParseBytes(string text)
    {
        text = text.Trim();
        int split = 0;
        while (split < text.Length && (char.IsAsciiDigit(text[split]) || text[split] == '.'))
        {
            split++;
        }

        if (split == 0 || !double.TryParse(text.AsSpan(0, split), NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
        {
            throw new ArgumentException($"not a size: '{text}'");
        }

        long unit = text[split..].ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "K" or "KI" or "KIB" => 1L << 10,
            "M" or "MI" or "MIB" => 1L << 20,
            "G" or "GI" or "GIB" => 1L << 30,
            "KB" => 1000,
            "MB" => 1000_000,
            "GB" => 1000_000_000,
            _ => throw new ArgumentException($"not a size unit: '{text}'"),
        };
        return (long)(number * unit);
    }
}

/// <summary>Everything a run is told on its command line.</summary>
internal sealed class DriverOptions
{
    public Uri Endpoint { get; set; } = new("http://127.0.0.1:9000");

    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    public string Region { get; set; } = "us-east-1";

    /// <summary>Send requests unsigned: a plain HTTP server (nginx) as the reference.</summary>
    public bool Anonymous { get; set; }

    public bool Insecure { get; set; }

    public string? Bucket { get; set; }

    /// <summary>Do not create (or delete) the bucket: it exists, or the server has no buckets (nginx with dav).</summary>
    public bool BucketExists { get; set; }

    public string? Prefix { get; set; }

    public Workload Workload { get; set; } = Workload.Put;

    public int Clients { get; set; } = 4;

    public SizeDistribution Sizes { get; set; } = SizeDistribution.Parse("1MiB");

    public TimeSpan? Duration { get; set; }

    public long? Count { get; set; }

    /// <summary>Objects written before a read workload starts; default max(4, 2 × clients).</summary>
    public int? Objects { get; set; }

    public long RangeSize { get; set; } = 1024 * 1024;

    public long PartSize { get; set; } = 8 * 1024 * 1024;

    public Dictionary<Workload, double> Mix { get; set; } = new() { [Workload.Put] = 20, [Workload.Get] = 60, [Workload.Range] = 20 };

    public int Seed { get; set; } = 1;

    public string JsonPath { get; set; } = "load-report.json";

    public string HtmlPath { get; set; } = "load-report.html";

    public bool Plain { get; set; }

    public bool Cleanup { get; set; } = true;

    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMinutes(5);

    public int PreparedObjects => Objects ?? Math.Max(4, 2 * Clients);

    public const string Usage = """
        predastore load driver: S3 load against any endpoint, with verified reads and a JSON + HTML report.

          dotnet run -c Release --project perf/Predastore.LoadDriver -- [options]

          --endpoint URL          S3 endpoint (default http://127.0.0.1:9000)
          --access-key K          default $AWS_ACCESS_KEY_ID, then $PREDASTORE_ACCESS_KEY
          --secret-key S          default $AWS_SECRET_ACCESS_KEY, then $PREDASTORE_SECRET_KEY
          --region R              signing region (default us-east-1)
          --anonymous             send unsigned requests (plain HTTP servers, e.g. nginx)
          --insecure              accept any TLS certificate
          --bucket B              bucket to use (default: a new one, deleted afterwards)
          --bucket-exists         do not create or delete the bucket
          --prefix P              key prefix (default load/<run id>/)
          --workload W            put | get | range | multipart | mixed (default put)
          --clients N             concurrent clients (default 4)
          --size SPEC             1MiB | 4KiB..16MiB (log-uniform) | 1MiB:3,64MiB:1 (weighted); default 1MiB
          --duration T            e.g. 30s, 2m (default 30s unless --count)
          --count N               stop after N operations
          --objects N             objects written before get/range/mixed (default max(4, 2 x clients))
          --range-size SIZE       bytes per ranged GET (default 1MiB)
          --part-size SIZE        multipart part size (default 8MiB)
          --mix put=20,get=60,range=20,multipart=0   weights of the mixed workload
          --seed N                content and choice seed (default 1)
          --json FILE             JSON report (default load-report.json)
          --html FILE             HTML report (default load-report.html)
          --plain                 plain lines even on a terminal
          --no-cleanup            keep the objects and the bucket
          --interval T            timeline resolution (default 1s)
          --request-timeout T     per request (default 5m)
        """;

    public static DriverOptions Parse(IReadOnlyList<string> args)
    {
        var o = new DriverOptions
        {
            AccessKey = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID") ?? Environment.GetEnvironmentVariable("PREDASTORE_ACCESS_KEY"),
            SecretKey = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY") ?? Environment.GetEnvironmentVariable("PREDASTORE_SECRET_KEY"),
        };
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value");
            switch (name)
            {
                case "--endpoint": o.Endpoint = new Uri(Value()); break;
                case "--access-key": o.AccessKey = Value(); break;
                case "--secret-key": o.SecretKey = Value(); break;
                case "--region": o.Region = Value(); break;
                case "--anonymous": o.Anonymous = true; break;
                case "--insecure": o.Insecure = true; break;
                case "--bucket": o.Bucket = Value(); break;
                case "--bucket-exists": o.BucketExists = true; break;
                case "--prefix": o.Prefix = Value(); break;
                case "--workload": o.Workload = ParseWorkload(Value()); break;
                case "--clients": o.Clients = PositiveInt(name, Value()); break;
                case "--size": o.Sizes = SizeDistribution.Parse(Value()); break;
                case "--duration": o.Duration = ParseTime(Value()); break;
                case "--count": o.Count = PositiveInt(name, Value()); break;
                case "--objects": o.Objects = PositiveInt(name, Value()); break;
                case "--range-size": o.RangeSize = SizeDistribution.ParseBytes(Value()); break;
                case "--part-size": o.PartSize = SizeDistribution.ParseBytes(Value()); break;
                case "--mix": o.Mix = ParseMix(Value()); break;
                case "--seed": o.Seed = int.Parse(Value(), CultureInfo.InvariantCulture); break;
                case "--json": o.JsonPath = Value(); break;
                case "--html": o.HtmlPath = Value(); break;
                case "--plain": o.Plain = true; break;
                case "--no-cleanup": o.Cleanup = false; break;
                case "--interval": o.Interval = ParseTime(Value()); break;
                case "--request-timeout": o.RequestTimeout = ParseTime(Value()); break;
                default: throw new ArgumentException($"unknown option {name}");
            }
        }

        if (o.Duration is null && o.Count is null)
        {
            o.Duration = TimeSpan.FromSeconds(30);
        }

        if (!o.Anonymous && (string.IsNullOrEmpty(o.AccessKey) || string.IsNullOrEmpty(o.SecretKey)))
        {
            throw new ArgumentException("credentials: --access-key and --secret-key (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), or --anonymous");
        }

        if (o.RangeSize < 1 || o.PartSize < 1 || o.Interval <= TimeSpan.Zero)
        {
            throw new ArgumentException("--range-size, --part-size and --interval must be positive");
        }

        return o;
    }

    public static Workload ParseWorkload(string text) => text.ToUpperInvariant() switch
    {
        "PUT" => Workload.Put,
        "GET" => Workload.Get,
        "RANGE" => Workload.Range,
        "MULTIPART" or "MPU" => Workload.Multipart,
        "MIXED" => Workload.Mixed,
        _ => throw new ArgumentException($"unknown workload '{text}' (put, get, range, multipart, mixed)"),
    };

    /// <summary>"30s", "2m", "1h", "500ms", or plain seconds.</summary>
    public static TimeSpan ParseTime(string text)
    {
        static double Number(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        return text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => TimeSpan.FromMilliseconds(Number(text[..^2])),
            _ when text.EndsWith('s') => TimeSpan.FromSeconds(Number(text[..^1])),
            _ when text.EndsWith('m') => TimeSpan.FromMinutes(Number(text[..^1])),
            _ when text.EndsWith('h') => TimeSpan.FromHours(Number(text[..^1])),
            _ => TimeSpan.FromSeconds(Number(text)),
        };
    }

    private static Dictionary<Workload, double> ParseMix(string text)
    {
        var mix = new Dictionary<Workload, double>();
        foreach (string part in text.Split(','))
        {
            string[] pair = part.Split('=');
            Workload w = ParseWorkload(pair[0]);
            if (pair.Length != 2 || w == Workload.Mixed)
            {
                throw new ArgumentException($"--mix {text}: expected put=N,get=N,range=N,multipart=N");
            }

            mix[w] = double.Parse(pair[1], CultureInfo.InvariantCulture);
        }

        if (mix.Values.Sum() <= 0 || mix.Values.Any(v => v < 0))
        {
            throw new ArgumentException($"--mix {text}: weights must be >= 0 with a positive sum");
        }

        return mix;
    }

    private static int PositiveInt(string name, string text)
    {
        int value = int.Parse(text, CultureInfo.InvariantCulture);
        return value >= 1 ? value : throw new ArgumentException($"{name} must be at least 1");
    }
}
