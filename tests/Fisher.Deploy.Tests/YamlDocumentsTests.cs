namespace Fisher.Deploy.Tests;

/// <summary>The scalar types the manifests are read with decide what the schemas see: a port is a number, a quoted one a string.</summary>
public sealed class YamlDocumentsTests
{
    [Fact]
    public void Plain_scalars_read_as_numbers_booleans_and_null_quoted_and_block_scalars_as_strings()
    {
        var doc = YamlDocuments.Parse("a: 8080\nb: \"8080\"\nc: true\nd: 'true'\ne: ~\nf: 1.5\ng: |\n  x: 1\nh: $(POD_IP):8080\n---\n", "test.yaml").Single();

        Assert.Equal(8080, doc["a"]!.GetValue<int>());
        Assert.Equal("8080", doc["b"]!.GetValue<string>());
        Assert.True(doc["c"]!.GetValue<bool>());
        Assert.Equal("true", doc["d"]!.GetValue<string>());
        Assert.Null(doc["e"]);
        Assert.True(doc.ContainsKey("e"));
        Assert.Equal(1.5, doc["f"]!.GetValue<double>());
        Assert.Equal("x: 1\n", doc["g"]!.GetValue<string>());
        Assert.Equal("$(POD_IP):8080", doc["h"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("a: yes\n")]
    [InlineData("a: off\n")]
    [InlineData("a: 0440\n")]
    public void A_scalar_YAML_1_1_reads_otherwise_is_refused_with_its_line(string yaml)
    {
        var e = Assert.Throws<InvalidDataException>(() => YamlDocuments.Parse(yaml, "test.yaml"));
        Assert.StartsWith("test.yaml: line 1: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_document_that_is_not_a_mapping_is_refused()
    {
        var e = Assert.Throws<InvalidDataException>(() => YamlDocuments.Parse("- a\n- b\n", "test.yaml"));
        Assert.Equal("test.yaml: document 1: expected a mapping (an object)", e.Message);
    }
}
