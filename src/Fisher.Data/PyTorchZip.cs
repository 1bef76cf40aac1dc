using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Fisher.Data;

/// <summary>
/// Reads <c>torch.save(state_dict)</c> zip files (the default serialization of torch ≥ 1.6): <c>archive/data.pkl</c>
/// is a pickle of an OrderedDict of tensors whose storages are the entries <c>archive/data/&lt;key&gt;</c>. Only the
/// pickle subset that state dicts use is interpreted; any other global is refused, so no code is ever run.
/// </summary>
internal static class PyTorchZip
{
    /// <summary>
    /// Reads the state dict of <paramref name="stream"/>. With <paramref name="expected"/> (an architecture's parameters),
    /// keys and shapes are compared before any storage is read, and only those tensors are read; keys
    /// <paramref name="skip"/> accepts are never read.
    /// </summary>
    public static IReadOnlyDictionary<string, NamedArray> Read(string path, FileStream stream, IReadOnlyList<(string Name, long[] Shape)>? expected, Func<string, bool>? skip = null)
    {
        var zip = ZipDirectory.Read(path, stream);
        var pickles = zip.Entries.Where(e => e.Name.EndsWith("/data.pkl", StringComparison.Ordinal) && e.Name.Count(c => c == '/') == 1).ToArray();
        if (pickles.Length != 1)
        {
            var what = pickles.Length == 0 ? "no" : $"{pickles.Length}";
            throw new DataFormatException(path, $"zip: expected one '<archive>/data.pkl' entry of torch.save, found {what} (a TorchScript or legacy file?)");
        }
        var prefix = pickles[0].Name[..^"data.pkl".Length];
        if (zip.Get(prefix + "byteorder") is { } byteOrder && Encoding.ASCII.GetString(zip.ReadEntry(byteOrder, null, 16)).Trim() != "little")
            throw new DataFormatException(path, $"{byteOrder.Name}: expected 'little'");

        var tensors = Tensors(path, pickles[0].Name, zip.ReadEntry(pickles[0], null, ReaderLimits.MaxPickleBytes));
        long budget = WeightBudget.Check(path, tensors.ToDictionary(t => t.Key, t => t.Tensor.Shape, StringComparer.Ordinal), expected);
        var wanted = expected?.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        var result = new Dictionary<string, NamedArray>(StringComparer.Ordinal);
        var storages = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        long storageElements = 0;
        foreach (var (key, tensor) in tensors)
        {
            if ((wanted is not null && !wanted.Contains(key)) || skip?.Invoke(key) == true)
                continue;
            int size = ElementSize(path, key, tensor.Storage.DType);
            if (!storages.TryGetValue(tensor.Storage.Key, out var data))
            {
                var entry = zip.Get($"{prefix}data/{tensor.Storage.Key}")
                    ?? throw new DataFormatException(path, $"{key}: storage entry '{prefix}data/{tensor.Storage.Key}' is missing");
                storageElements = CheckedSum(path, key, storageElements, tensor.Storage.Elements);
                if (storageElements > 2 * budget)
                    throw new DataFormatException(path, $"{key}: the storages read hold {storageElements} elements; expected at most {2 * budget} (twice the {budget} parameters bound)");
                data = zip.ReadEntry(entry, tensor.Storage.Elements * size, long.MaxValue);
                storages[tensor.Storage.Key] = data;
            }
            result[key] = Materialize(path, key, tensor, data, size);
        }
        return result;
    }

    /// <summary>The (key, tensor) pairs of the pickle, in order; keys are printable strings, values tensors.</summary>
    private static List<(string Key, TensorRef Tensor)> Tensors(string path, string name, byte[] pickle)
    {
        object? root;
        try
        {
            root = new Unpickler(path, pickle).Load();
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidCastException or ArgumentException or IndexOutOfRangeException or InvalidOperationException or OverflowException)
        {
            throw new DataFormatException(path, $"{name}: malformed pickle: {TextChecks.OneLine(e.Message)}", e);
        }
        if (root is not PyDict dict)
            throw new DataFormatException(path, $"{name}: expected a state dict (a dict of tensors), got {Describe(root)}");
        var result = new List<(string, TensorRef)>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (keyObject, value) in dict.Items)
        {
            if (keyObject is not string key || !TextChecks.IsPrintable(key))
                throw new DataFormatException(path, $"{name}: expected printable string keys of at most {TextChecks.MaxNameLength} characters, got {Describe(keyObject)}");
            if (value is not TensorRef tensor)
                throw new DataFormatException(path, $"{key}: expected a tensor, got {Describe(value)} (save model.state_dict(), not a checkpoint dict)");
            if (!keys.Add(key))
                throw new DataFormatException(path, $"{key}: given twice in the state dict");
            result.Add((key, tensor));
        }
        return result;
    }

    private static long CheckedSum(string path, string key, long a, long b)
    {
        try
        {
            return checked(a + b);
        }
        catch (OverflowException e)
        {
            throw new DataFormatException(path, $"{key}: storage sizes overflow 64-bit arithmetic", e);
        }
    }

    private static int ElementSize(string path, string key, string dtype) => dtype switch
    {
        "float64" => 8,
        "float32" => 4,
        "float16" or "bfloat16" => 2,
        _ => throw new DataFormatException(path, $"{key}: dtype {dtype} is not a floating-point type; expected float32, float64, float16 or bfloat16"),
    };

    /// <summary>
    /// The tensor's values from its storage: shape, strides and offset must address elements inside the storage's real
    /// size (stride 0, expanded and overlapping views are read as views), with checked arithmetic.
    /// </summary>
    private static NamedArray Materialize(string path, string key, TensorRef t, byte[] data, int size)
    {
        long count = t.Shape.Length == 0 ? 1 : Shapes.ElementCount(t.Shape); // checked by WeightBudget.Check
        if (t.Stride.Length != t.Shape.Length)
            throw new DataFormatException(path, $"{key}: stride has {t.Stride.Length} entries for shape {Shapes.Format(t.Shape)}");
        long storageElements = data.Length / size;
        long maxIndex = t.Offset;
        try
        {
            for (int d = 0; d < t.Shape.Length; d++)
            {
                if (t.Stride[d] < 0)
                    throw new DataFormatException(path, $"{key}: negative stride in {Shapes.Format(t.Stride)}");
                if (t.Shape[d] > 0)
                    maxIndex = checked(maxIndex + (t.Shape[d] - 1) * t.Stride[d]);
            }
        }
        catch (OverflowException e)
        {
            throw new DataFormatException(path, $"{key}: shape {Shapes.Format(t.Shape)} with stride {Shapes.Format(t.Stride)} overflows 64-bit arithmetic", e);
        }
        if (count > 0 && (t.Offset < 0 || maxIndex >= storageElements))
            throw new DataFormatException(path, $"{key}: shape {Shapes.Format(t.Shape)} at offset {t.Offset} needs storage element {maxIndex}, but storage '{t.Storage.Key}' holds {storageElements} (truncated?)");

        var result = new double[count];
        var index = new long[t.Shape.Length];
        for (long i = 0; i < count; i++)
        {
            long at = t.Offset;
            for (int d = 0; d < index.Length; d++)
                at += index[d] * t.Stride[d];
            result[i] = Decode(data.AsSpan((int)(at * size), size), t.Storage.DType);
            for (int d = index.Length - 1; d >= 0; d--)
            {
                if (++index[d] < t.Shape[d])
                    break;
                index[d] = 0;
            }
        }
        return new NamedArray(key, t.Shape, result);
    }

    private static double Decode(ReadOnlySpan<byte> raw, string dtype) => dtype switch
    {
        "float64" => BinaryPrimitives.ReadDoubleLittleEndian(raw),
        "float32" => BinaryPrimitives.ReadSingleLittleEndian(raw),
        "float16" => (double)BinaryPrimitives.ReadHalfLittleEndian(raw),
        _ => Safetensors.BFloat16(BinaryPrimitives.ReadUInt16LittleEndian(raw)),
    };

    private static string Describe(object? value) => value switch
    {
        null => "None",
        string => "a string",
        PyGlobal g => $"{g.Module}.{g.Name}",
        PyObject o => $"an object {o.Type.Module}.{o.Type.Name}",
        _ => value.GetType().Name,
    };

    private sealed record PyGlobal(string Module, string Name);

    private sealed record PyObject(PyGlobal Type, object?[] Arguments);

    private sealed class PyDict
    {
        public List<(object? Key, object? Value)> Items { get; } = [];
    }

    private sealed record StorageRef(string DType, string Key, long Elements);

    private sealed record TensorRef(StorageRef Storage, long Offset, long[] Shape, long[] Stride);

    private sealed class Mark
    {
        public static readonly Mark Instance = new();
    }

    /// <summary>The pickle protocol 2–5 opcodes a state dict uses; everything else is refused.</summary>
    private sealed class Unpickler(string path, byte[] data)
    {
        private readonly Dictionary<long, object?> _memo = [];
        private readonly List<object?> _stack = [];
        private int _at;

        public object? Load()
        {
            while (true)
            {
                int position = _at;
                byte op = U8();
                switch (op)
                {
                    case 0x80: U8(); break;                                 // PROTO
                    case 0x95: _at += 8; break;                             // FRAME
                    case (byte)'.': return Pop();                           // STOP
                    case (byte)'(': Push(Mark.Instance); break;             // MARK
                    case (byte)'}': Push(new PyDict()); break;              // EMPTY_DICT
                    case (byte)']': Push(new List<object?>()); break;       // EMPTY_LIST
                    case (byte)')': Push(Array.Empty<object?>()); break;    // EMPTY_TUPLE
                    case (byte)'N': Push(null); break;
                    case 0x88: Push(true); break;
                    case 0x89: Push(false); break;
                    case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                    case (byte)'K': Push((long)U8()); break;
                    case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                    case 0x8a: Push(Long(Take(U8()))); break;               // LONG1
                    case 0x8b: Push(Long(Take(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))))); break;
                    case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                    case (byte)'X': Push(Encoding.UTF8.GetString(Take(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))))); break;
                    case 0x8c: Push(Encoding.UTF8.GetString(Take(U8()))); break;
                    case 0x8d: Push(Encoding.UTF8.GetString(Take(checked((int)BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))))); break;
                    case (byte)'T': Push(Encoding.Latin1.GetString(Take(BinaryPrimitives.ReadInt32LittleEndian(Take(4))))); break;
                    case (byte)'U': Push(Encoding.Latin1.GetString(Take(U8()))); break;
                    case (byte)'C': Push(Take(U8()).ToArray()); break;      // SHORT_BINBYTES
                    case (byte)'B': Push(Take(BinaryPrimitives.ReadInt32LittleEndian(Take(4))).ToArray()); break;
                    case (byte)'q': Memoize(U8()); break;                   // BINPUT
                    case (byte)'r': Memoize(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))); break;
                    case 0x94: Memoize(_memo.Count); break;                 // MEMOIZE
                    case (byte)'h': Push(Memo(U8())); break;                // BINGET
                    case (byte)'j': Push(Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break;
                    case (byte)'t': Push(PopMark().ToArray()); break;       // TUPLE
                    case 0x85: Push(new[] { Pop() }); break;
                    case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                    case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                    case (byte)'l': Push(PopMark()); break;                 // LIST
                    case (byte)'a': { var v = Pop(); As<List<object?>>(Peek(), position).Add(v); break; }
                    case (byte)'e': { var items = PopMark(); As<List<object?>>(Peek(), position).AddRange(items); break; }
                    case (byte)'d': { var items = PopMark(); var d = new PyDict(); AddPairs(d, items, position); Push(d); break; }
                    case (byte)'s': { var v = Pop(); var k = Pop(); As<PyDict>(Peek(), position).Items.Add((k, v)); break; }
                    case (byte)'u': { var items = PopMark(); AddPairs(As<PyDict>(Peek(), position), items, position); break; }
                    case (byte)'c': Push(Global(Line(), Line(), position)); break;
                    case 0x93: { var name = As<string>(Pop(), position); var module = As<string>(Pop(), position); Push(Global(module, name, position)); break; }
                    case (byte)'Q': Push(PersistentLoad(Pop(), position)); break;
                    case (byte)'R': { var args = As<object?[]>(Pop(), position); var f = As<PyGlobal>(Pop(), position); Push(Call(f, args, position)); break; }
                    case 0x81: { var args = As<object?[]>(Pop(), position); var cls = As<PyGlobal>(Pop(), position); Push(Call(cls, args, position)); break; }
                    case (byte)'b': Pop(); break;                           // BUILD: state (the state dict's _metadata) is ignored
                    case (byte)'0': Pop(); break;                           // POP
                    default:
                        throw new DataFormatException(path, $"data.pkl offset {position}: pickle opcode 0x{op:x2} is not supported in a state dict");
                }
            }
        }

        private object? Call(PyGlobal f, object?[] args, int position)
        {
            switch (f.Module, f.Name)
            {
                case ("collections", "OrderedDict"):
                case ("builtins", "dict"):
                    return new PyDict();
                case ("torch._utils", "_rebuild_tensor_v2"):
                case ("torch._utils", "_rebuild_tensor"):
                {
                    if (args.Length < 4)
                        throw new DataFormatException(path, $"data.pkl offset {position}: _rebuild_tensor with {args.Length} arguments");
                    var storage = As<StorageRef>(args[0], position);
                    return new TensorRef(storage, As<long>(args[1], position), Longs(args[2], position), Longs(args[3], position));
                }
                case ("torch._utils", "_rebuild_parameter"):
                case ("torch._utils", "_rebuild_parameter_with_state"):
                    return args.Length > 0 && args[0] is TensorRef t
                        ? t
                        : throw new DataFormatException(path, $"data.pkl offset {position}: _rebuild_parameter without a tensor");
                default:
                    return new PyObject(f, args);
            }
        }

        private object Global(string module, string name, int position)
        {
            // Only names a state dict refers to; anything else is recorded, never resolved.
            if (module.Length == 0 || name.Length == 0 || !TextChecks.IsPrintable(module) || !TextChecks.IsPrintable(name))
                throw new DataFormatException(path, $"data.pkl offset {position}: a global name that is empty or not printable");
            return new PyGlobal(module, name);
        }

        private StorageRef PersistentLoad(object? pid, int position)
        {
            if (pid is not object?[] { Length: >= 5 } tuple || tuple[0] is not "storage")
                throw new DataFormatException(path, $"data.pkl offset {position}: expected a ('storage', type, key, location, size) persistent id");
            var type = As<PyGlobal>(tuple[1], position);
            var key = tuple[2] as string is { } k && TextChecks.IsPrintable(k) && !k.Contains('/', StringComparison.Ordinal) && k is not (".." or ".")
                ? k
                : throw new DataFormatException(path, $"data.pkl offset {position}: storage key is not a printable name");
            if (tuple[4] is not long elements || elements < 0)
                throw new DataFormatException(path, $"data.pkl offset {position}: storage size is not a non-negative 64-bit integer");
            var dtype = type switch
            {
                { Module: "torch", Name: "FloatStorage" } => "float32",
                { Module: "torch", Name: "DoubleStorage" } => "float64",
                { Module: "torch", Name: "HalfStorage" } => "float16",
                { Module: "torch", Name: "BFloat16Storage" } => "bfloat16",
                { Module: "torch", Name: "LongStorage" } => "int64",
                { Module: "torch", Name: "IntStorage" } => "int32",
                { Module: "torch", Name: "ShortStorage" } => "int16",
                { Module: "torch", Name: "CharStorage" } => "int8",
                { Module: "torch", Name: "ByteStorage" } => "uint8",
                { Module: "torch", Name: "BoolStorage" } => "bool",
                { Module: "torch", Name: "ComplexFloatStorage" } => "complex64",
                { Module: "torch", Name: "ComplexDoubleStorage" } => "complex128",
                _ => $"{type.Module}.{type.Name}",
            };
            return new StorageRef(dtype, key, elements);
        }

        private void AddPairs(PyDict d, List<object?> items, int position)
        {
            if (items.Count % 2 != 0)
                throw new DataFormatException(path, $"data.pkl offset {position}: odd number of items for a dict");
            for (int i = 0; i < items.Count; i += 2)
                d.Items.Add((items[i], items[i + 1]));
        }

        private long[] Longs(object? value, int position) =>
            As<object?[]>(value, position).Select(v => As<long>(v, position)).ToArray();

        private T As<T>(object? value, int position) => value is T t
            ? t
            : throw new DataFormatException(path, $"data.pkl offset {position}: expected {typeof(T).Name}, got {(value is null ? "None" : value.GetType().Name)}");

        private static object Long(ReadOnlySpan<byte> bytes)
        {
            var value = new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
            return value >= long.MinValue && value <= long.MaxValue ? (long)value : (object)value; // (object): else the conditional is a BigInteger
        }

        private object? Memo(long key) => _memo.TryGetValue(key, out var v)
            ? v
            : throw new DataFormatException(path, $"data.pkl offset {_at}: memo key {key} was never stored");

        private string Line()
        {
            int end = Array.IndexOf(data, (byte)'\n', _at);
            if (end < 0)
                throw new EndOfStreamException("unterminated GLOBAL name");
            var s = Encoding.ASCII.GetString(data, _at, end - _at);
            _at = end + 1;
            return s;
        }

        private byte U8() => _at < data.Length ? data[_at++] : throw new EndOfStreamException($"pickle ends at offset {_at} without STOP");

        private ReadOnlySpan<byte> Take(int n)
        {
            if (n < 0 || _at + n > data.Length)
                throw new EndOfStreamException($"pickle ends at offset {data.Length}, inside a {n}-byte field at offset {_at}");
            var span = data.AsSpan(_at, n);
            _at += n;
            return span;
        }

        private void Push(object? value)
        {
            if (_stack.Count >= ReaderLimits.MaxPickleItems)
                throw new DataFormatException(path, $"data.pkl offset {_at}: more than {ReaderLimits.MaxPickleItems} items on the pickle stack");
            _stack.Add(value);
        }

        private void Memoize(long key)
        {
            if (_memo.Count >= ReaderLimits.MaxPickleItems && !_memo.ContainsKey(key))
                throw new DataFormatException(path, $"data.pkl offset {_at}: more than {ReaderLimits.MaxPickleItems} memo entries");
            _memo[key] = Peek();
        }

        private object? Peek() => _stack.Count > 0 ? _stack[^1] : throw new InvalidOperationException($"empty pickle stack at offset {_at}");

        private object? Pop()
        {
            var v = Peek();
            _stack.RemoveAt(_stack.Count - 1);
            return v;
        }

        private List<object?> PopMark()
        {
            int mark = _stack.FindLastIndex(o => ReferenceEquals(o, Mark.Instance));
            if (mark < 0)
                throw new InvalidOperationException($"no MARK on the pickle stack at offset {_at}");
            var items = _stack.GetRange(mark + 1, _stack.Count - mark - 1);
            _stack.RemoveRange(mark, _stack.Count - mark);
            return items;
        }
    }
}
