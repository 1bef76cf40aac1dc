namespace Fisher.Grains;

/// <summary>
/// Faults a process test can switch on to play a job that takes its silos down (<c>Fisher:Grains:TestFaults:*</c>).
/// Refused by <see cref="FisherOptionsValidator"/> unless the environment variable <see cref="EnvironmentVariable"/>
/// is <c>1</c>, so a production silo never runs with one.
/// </summary>
public sealed class TestFaults
{
    /// <summary>The environment variable that marks a test run; without it a silo with a test fault does not start.</summary>
    public const string EnvironmentVariable = "FISHER_TEST_FAULTS";

    /// <summary>
    /// A worker whose job reads inputs of this file name ends its silo's process at once (<see cref="Environment.FailFast(string)"/>,
    /// as a native crash would) when it starts computing.
    /// </summary>
    public string? CrashOnInputsNamed { get; set; }

    /// <summary>True when any fault is set.</summary>
    public bool Any => !string.IsNullOrEmpty(CrashOnInputsNamed);

    /// <summary>True when the environment marks a test run.</summary>
    public static bool Allowed => Environment.GetEnvironmentVariable(EnvironmentVariable) == "1";
}
