namespace Fisher.Data;

/// <summary>
/// Inputs (and optionally labels) read by row range without loading the files. Inputs: IDX (MNIST family, any
/// element type) or NPY (<c>&lt;f4</c>/<c>&lt;f8</c>, C order) with shape (N, ...), each row flattened to
/// <see cref="Features"/> values. Labels: IDX or NPY of integer (<c>&lt;i8</c>, <c>&lt;i4</c>, <c>&lt;i2</c>,
/// <c>|i1</c>, <c>|u1</c>) or float (<c>&lt;f4</c>, <c>&lt;f8</c>) dtype with shape (N) or (N, C). Either file may be
/// gzip-compressed (detected by content). Values are returned raw (no scaling, no NaN check).
/// <para>Not thread-safe: use one <see cref="Dataset"/> per worker. Sequential reads of a gzip file continue from the
/// last position; reading backwards restarts decompression from the beginning. A read that would skip or rescan 4 MB
/// or more of decompressed data uses a plain copy of the file instead, made once per machine in
/// <c>$FISHER_CACHE_DIR</c> (default: <c>~/.cache/fisher/decompressed</c>; empty: never).</para>
/// </summary>
public sealed class Dataset : IDisposable
{
    private static readonly string[] InputDTypes = ["<f4", "<f8"];
    private static readonly string[] LabelDTypes = ["<i8", "<i4", "<i2", "|i1", "|u1", "<f4", "<f8"];

    /// <summary>A header's dtype quoted when this reader knows it; an unknown one is not echoed (it is file content).</summary>
    private static string DTypeText(ArrayHeader header) => header.Type is null ? "an unsupported dtype" : $"'{header.DType}'";

    private readonly ArrayFile _inputs;
    private readonly ArrayFile? _labels;

    private Dataset(ArrayFile inputs, ArrayFile? labels)
    {
        _inputs = inputs;
        _labels = labels;
        Features = checked((int)inputs.Header.RowElements);
        LabelColumns = labels is null ? 0 : checked((int)labels.Header.RowElements);
    }

    /// <summary>Opens the inputs and, when given, the labels; checks headers, sizes and that the row counts agree.</summary>
    public static Dataset Open(string inputsPath, string? labelsPath = null) => Open(inputsPath, labelsPath, copies: null);

    /// <summary>As <see cref="Open(string, string?)"/>, with far reads of gzip files using <paramref name="copies"/>
    /// (null: <see cref="DecompressedCopies.FromEnvironment"/>).</summary>
    internal static Dataset Open(string inputsPath, string? labelsPath, DecompressedCopies? copies)
    {
        ArgumentNullException.ThrowIfNull(inputsPath);
        var inputs = ArrayFile.Open(inputsPath, copies);
        ArrayFile? labels = null;
        try
        {
            var h = inputs.Header;
            if (h.Format == "NPY" && !InputDTypes.Contains(h.DType))
                throw new DataFormatException(inputsPath, $"header: expected dtype '<f4' or '<f8' for inputs, got {DTypeText(h)}");
            if (h.Type is null)
                throw new DataFormatException(inputsPath, $"header: dtype {DTypeText(h)} is not supported");
            if (h.RowElements < 1 || h.RowElements * h.ElementSize > Array.MaxLength) // one row is read into one buffer
                throw new DataFormatException(inputsPath, $"header: shape {h.ShapeText} gives {h.RowElements} features per row; expected 1 to {Array.MaxLength / h.ElementSize}");

            if (labelsPath is not null)
            {
                labels = ArrayFile.Open(labelsPath, copies);
                var l = labels.Header;
                if ((l.Format == "NPY" && !LabelDTypes.Contains(l.DType)) || l.Type is null)
                    throw new DataFormatException(labelsPath, $"header: expected a label dtype {string.Join(", ", LabelDTypes.Select(d => $"'{d}'"))}, got {DTypeText(l)}");
                if (l.Shape.Length > 2 || l.RowElements < 1 || l.RowElements * l.ElementSize > Array.MaxLength)
                    throw new DataFormatException(labelsPath, $"header: shape {l.ShapeText}; expected (N) or (N, C) with C >= 1");
                if (l.Rows != h.Rows)
                    throw new DataFormatException(labelsPath, $"rows: the labels have {l.Rows} rows but the inputs {inputsPath} have {h.Rows}");
            }
            return new Dataset(inputs, labels);
        }
        catch
        {
            labels?.Dispose();
            inputs.Dispose();
            throw;
        }
    }

    /// <summary>The number of rows (examples).</summary>
    public long Rows => _inputs.Header.Rows;

    /// <summary>Values per input row: the product of the non-row dimensions.</summary>
    public int Features { get; }

    /// <summary>The shape of one input sample: the file's shape after the row dimension.</summary>
    public IReadOnlyList<long> SampleShape => _inputs.Header.Shape[1..];

    /// <summary>
    /// Checks the samples fit a network whose per-sample input shape is <paramref name="networkInput"/>: the same number
    /// of values, and (for a network with channels or space) a per-sample shape that is flat, equal, or equal but for a
    /// missing leading channel of 1 ((N, H, W) for [1, H, W]). Throws <see cref="DataFormatException"/> naming both shapes.
    /// </summary>
    public void CheckSampleShape(IReadOnlyList<long> networkInput)
    {
        ArgumentNullException.ThrowIfNull(networkInput);
        long size = networkInput.Aggregate(1L, (a, b) => checked(a * b));
        var sample = SampleShape;
        bool fits = size == Features && (networkInput.Count == 1 || sample.Count <= 1 || sample.SequenceEqual(networkInput)
            || (networkInput[0] == 1 && sample.SequenceEqual(networkInput.Skip(1))));
        if (!fits)
            throw new DataFormatException(InputsPath, $"shape: samples of shape ({string.Join(", ", sample)}) ({Features} values) do not fit the network's input shape ({string.Join(", ", networkInput)}) ({size} values)");
    }

    /// <summary>True when a labels file was given.</summary>
    public bool HasLabels => _labels is not null;

    /// <summary>Values per label row: 1 for shape (N), C for (N, C); 0 without labels.</summary>
    public int LabelColumns { get; }

    /// <summary>The inputs file as given.</summary>
    public string InputsPath => _inputs.Path;

    /// <summary>The labels file as given, or null.</summary>
    public string? LabelsPath => _labels?.Path;

    /// <summary>Decompressor restarts of the inputs and labels files (gzip only; tests check sequential reads never restart).</summary>
    internal int Restarts => _inputs.Restarts + (_labels?.Restarts ?? 0);

    /// <summary>Bytes decompressed from the inputs file so far.</summary>
    internal long InputBytesDecompressed => _inputs.DecompressedBytes;

    /// <summary>True once the inputs are read from a plain copy of their gzip file.</summary>
    internal bool InputsUseCopy => _inputs.UsesCopy;

    /// <summary>Reads input rows [start, start + count) row-major into <paramref name="destination"/> (count * Features values).</summary>
    public void ReadInputs(long start, int count, Span<double> destination)
    {
        CheckRange(start, count, destination.Length, Features, nameof(destination));
        _inputs.Read(start, count, destination);
    }

    /// <summary>Reads label rows [start, start + count) into <paramref name="destination"/> (count * LabelColumns values).</summary>
    public void ReadLabels(long start, int count, Span<double> destination)
    {
        if (_labels is null)
            throw new InvalidOperationException($"the dataset {InputsPath} was opened without labels");
        CheckRange(start, count, destination.Length, LabelColumns, nameof(destination));
        _labels.Read(start, count, destination);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _inputs.Dispose();
        _labels?.Dispose();
    }

    private void CheckRange(long start, int count, int length, int perRow, string name)
    {
        if (start < 0 || count < 0 || start > Rows - count)
            throw new ArgumentOutOfRangeException(nameof(start), $"rows [start {start}, start + count {count}) are outside the {Rows} rows of {InputsPath}");
        if (length < (long)count * perRow)
            throw new ArgumentException($"destination holds {length} values; {count} rows need {(long)count * perRow}", name);
    }
}
