namespace Discemu.Acquisition;

/// <summary>Everything the logs of an acquisition record.</summary>
public sealed class AcquisitionReport
{
    /// <summary>The program name.</summary>
    public required string ToolName { get; init; }

    /// <summary>The program version.</summary>
    public required string ToolVersion { get; init; }

    /// <summary>The command line.</summary>
    public required string CommandLine { get; init; }

    /// <summary>When the run started (UTC).</summary>
    public DateTimeOffset StartTime { get; init; }

    /// <summary>When the run ended (UTC).</summary>
    public DateTimeOffset EndTime { get; set; }

    /// <summary>How the run ended.</summary>
    public AcquisitionStatus Status { get; set; } = AcquisitionStatus.Failed;

    /// <summary>The error that stopped a failed run.</summary>
    public string? Error { get; set; }

    /// <summary>The source.</summary>
    public required SourceIdentity Source { get; init; }

    /// <summary>The destination as named.</summary>
    public required string DestinationPath { get; init; }

    /// <summary>The destination format.</summary>
    public required string DestinationFormat { get; init; }

    /// <summary>The destination's files.</summary>
    public IReadOnlyList<string> DestinationFiles { get; set; } = [];

    /// <summary>The split (or segment) size.</summary>
    public long? SplitSize { get; init; }

    /// <summary>The mapfile.</summary>
    public string? MapfilePath { get; init; }

    /// <summary>True when the run continued an earlier one from its mapfile.</summary>
    public bool Resumed { get; init; }

    /// <summary>True when the source was read with O_DIRECT.</summary>
    public bool DirectIO { get; init; }

    /// <summary>Case metadata.</summary>
    public CaseMetadata Case { get; init; } = new();

    /// <summary>The engine options used.</summary>
    public required AcquisitionOptions Options { get; init; }

    /// <summary>The engine's result (partial for an interrupted run; null when the engine never ran).</summary>
    public AcquisitionResult? Result { get; set; }

    /// <summary>The destination's verification (<c>--verify</c>).</summary>
    public VerificationResult? DestinationVerification { get; set; }

    /// <summary>The source's verification (<c>--verify-source</c>).</summary>
    public VerificationResult? SourceVerification { get; set; }

    /// <summary>The JSON log written.</summary>
    public required string JsonLogPath { get; init; }

    /// <summary>The text log written.</summary>
    public required string TextLogPath { get; init; }

    /// <summary>True when every verification run matched.</summary>
    public bool VerificationPassed => DestinationVerification?.Matches != false && SourceVerification?.Matches != false;
}
