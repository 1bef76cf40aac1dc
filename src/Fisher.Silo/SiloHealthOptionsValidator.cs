using Microsoft.Extensions.Options;

namespace Fisher.Silo;

/// <summary>Checks <see cref="SiloHealthOptions"/> when the silo starts and reports every bad setting by its configuration key.</summary>
internal sealed class SiloHealthOptionsValidator : IValidateOptions<SiloHealthOptions>
{
    public ValidateOptionsResult Validate(string? name, SiloHealthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.DrainDelay < TimeSpan.Zero)
            failures.Add($"{SiloHealthOptions.SectionName}:{nameof(SiloHealthOptions.DrainDelay)} must not be negative, got {options.DrainDelay}");
        if (options.ShutdownTimeout <= TimeSpan.Zero || options.ShutdownTimeout <= options.DrainDelay)
            failures.Add($"{SiloHealthOptions.SectionName}:{nameof(SiloHealthOptions.ShutdownTimeout)} must be positive and longer than {SiloHealthOptions.SectionName}:{nameof(SiloHealthOptions.DrainDelay)} ({options.DrainDelay}), got {options.ShutdownTimeout}");
        if (options.MembershipProbeTimeout <= TimeSpan.Zero)
            failures.Add($"{SiloHealthOptions.SectionName}:{nameof(SiloHealthOptions.MembershipProbeTimeout)} must be positive, got {options.MembershipProbeTimeout}");
        if (options.MembershipProbeInterval < TimeSpan.Zero)
            failures.Add($"{SiloHealthOptions.SectionName}:{nameof(SiloHealthOptions.MembershipProbeInterval)} must not be negative, got {options.MembershipProbeInterval}");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
