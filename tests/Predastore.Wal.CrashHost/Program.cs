// The child of the WAL crash tests. It opens the WAL in args[0] and runs concurrent uploads until it is killed,
// printing one line per event *after* the event is durable (or before it starts, for "begun" events):
//   C <key>  commit begun      A <key>  commit acknowledged (durable)
//   D <key>  delete begun      X <key>  delete acknowledged (durable)
// The content of a shard is a function of its key (ShardContent), so the parent can check it without being told.
using System.Globalization;
using Predastore.Wal;
using Predastore.Wal.CrashHost;

string directory = args[0];
int seed = int.Parse(args[1], CultureInfo.InvariantCulture);
bool compact = args.Length > 2 && args[2] == "compact";
int writers = 8;
var options = new WalOptions
{
    Directory = directory,
    SegmentSize = 1024 * 1024,
    MaxRecordPayload = 64 * 1024,
    CheckpointInterval = 512 * 1024,
    CompactionLiveFraction = 0.5,
    CompactionInterval = compact ? TimeSpan.FromMilliseconds(20) : TimeSpan.Zero,
};
WriteAheadLog wal = WriteAheadLog.Open(options);
var output = TextWriter.Synchronized(Console.Out);
await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() => RunWriterAsync(wal, seed * 1000 + w, output)))).ConfigureAwait(false);

static async Task RunWriterAsync(WriteAheadLog wal, int seed, TextWriter output)
{
    var random = new Random(seed);
    var acknowledged = new List<ShardKey>();
    while (true)
    {
        ShardKey key = ShardContent.NewKey(random);
        byte[] data = ShardContent.For(key);
        for (int offset = 0; offset < data.Length;)
        {
            int chunk = Math.Min(random.Next(1, 96 * 1024), data.Length - offset);
            await wal.AppendAsync(key, offset, data.AsMemory(offset, chunk)).ConfigureAwait(false);
            offset += chunk;
        }

        output.WriteLine($"C {ShardContent.ToHex(key)}");
        await wal.CommitAsync(key, data.Length).ConfigureAwait(false);
        output.WriteLine($"A {ShardContent.ToHex(key)}");
        acknowledged.Add(key);
        if (acknowledged.Count > 2 && random.Next(3) == 0)
        {
            ShardKey victim = acknowledged[random.Next(acknowledged.Count)];
            acknowledged.Remove(victim);
            output.WriteLine($"D {ShardContent.ToHex(victim)}");
            await wal.DeleteAsync(victim).ConfigureAwait(false);
            output.WriteLine($"X {ShardContent.ToHex(victim)}");
        }
    }
}
