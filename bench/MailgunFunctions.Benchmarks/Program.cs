using BenchmarkDotNet.Running;
using MailgunFunctions.Benchmarks;

// Usage: dotnet run -c Release --project bench/MailgunFunctions.Benchmarks -- [hotpath|...] [BenchmarkDotNet args]
BenchmarkSwitcher.FromAssembly(typeof(HotPathBenchmarks).Assembly).Run(args);
