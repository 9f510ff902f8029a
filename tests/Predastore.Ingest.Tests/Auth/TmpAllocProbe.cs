#pragma warning disable xUnit1031
using System.IO.Pipelines;
using Predastore.Ingest.Auth;
namespace Predastore.Ingest.Tests.Auth;
public sealed class TmpAllocProbe
{
    [Fact]
    public void Probe()
    {
        byte[] large = ReferenceChunkSigner.Encode(new byte[8 << 20], [.. Enumerable.Repeat(65536, 128)], AwsChunkedReaderTests.Seed);
        for (int round = 0; round < 3; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            PipeReader p = AuthTestIo.Feed(large, 65536, 65536 + 100);
            int reads = 0;
            while (true)
            {
                var r = p.ReadAsync().Result; reads++;
                p.AdvanceTo(r.Buffer.End);
                if (r.IsCompleted) break;
            }
            long pipeOnly = GC.GetAllocatedBytesForCurrentThread() - before;
            before = GC.GetAllocatedBytesForCurrentThread();
            var reader = AwsChunkedReaderTests.SignedReader(AuthTestIo.Feed(large, 65536, 65536 + 100), null);
            long ctor = GC.GetAllocatedBytesForCurrentThread() - before;
            byte[] buf = new byte[65536];
            before = GC.GetAllocatedBytesForCurrentThread();
            int n; int calls = 0;
            do { n = reader.ReadAsync(buf).Result; calls++; } while (n > 0);
            long readAlloc = GC.GetAllocatedBytesForCurrentThread() - before;
            Console.WriteLine($"pipe-only {pipeOnly} ({reads} reads), ctor {ctor}, reads {readAlloc} over {calls} calls");
        }
    }
}
