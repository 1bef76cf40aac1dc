using StackExchange.Redis;

namespace Fisher.Grains;

/// <summary>
/// A check of a Redis connection string made once before a silo or client starts: a malformed string or credentials
/// Redis refuses are a one-line <see cref="RedisAccessException"/> at once (Orleans would retry them for a minute and
/// end in a stack trace). A Redis that does not answer yet is no error here: silos wait for it as before.
/// </summary>
public static class RedisAccess
{
    /// <summary>How long the check waits for Redis to answer before it leaves the waiting to Orleans.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Throws <see cref="RedisAccessException"/> for a malformed string or refused credentials.</summary>
    public static async Task CheckAsync(string connectionString)
    {
        var options = Parse(connectionString);
        options.AbortOnConnectFail = true;
        options.ConnectRetry = 1;
        options.ConnectTimeout = (int)CheckTimeout.TotalMilliseconds;
        try
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(options);
            await connection.GetDatabase().PingAsync();
        }
        catch (RedisConnectionException e) when (e.FailureType == ConnectionFailureType.AuthenticationFailure)
        {
            throw Refused(options);
        }
        catch (RedisServerException e) when (e.Message.Contains("NOAUTH", StringComparison.Ordinal) || e.Message.Contains("WRONGPASS", StringComparison.Ordinal))
        {
            throw Refused(options);
        }
        catch (RedisConnectionException)
        {
            // Not reachable (yet): the silo's membership start waits and retries, the client reports its own error.
        }
    }

    /// <summary>The servers of a connection string without its password or other settings, for messages and logs.</summary>
    public static string Describe(string connectionString)
    {
        try
        {
            return string.Join(",", ConfigurationOptions.Parse(connectionString).EndPoints.Select(e => e.ToString()));
        }
        catch (ArgumentException)
        {
            return "(malformed connection string)";
        }
    }

    private static ConfigurationOptions Parse(string connectionString)
    {
        try
        {
            return ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new RedisAccessException($"Redis connection string: {e.Message} (expected host:port[,password=...][,ssl=true])");
        }
    }

    private static RedisAccessException Refused(ConfigurationOptions options) =>
        new($"Redis at {string.Join(",", options.EndPoints.Select(e => e.ToString()))} refused the credentials: " +
            (options.Password is null ? "it requires a password (add password=... to the connection string)" : "wrong password (or user) in the connection string"));
}

/// <summary>A Redis connection string Redis refuses, or cannot parse; the message is one line without the password.</summary>
public sealed class RedisAccessException(string message) : Exception(message);
