using Fisher.Estimators;
using Xunit;

namespace Fisher.Data.Tests;

public sealed class ArchitectureTests
{
    private const string Example = """
        {
          // the example of the brief, with a comment and trailing commas
          "widths": [784, 128, 64, 10],
          "activations": ["tanh", "tanh",],
          "likelihood": "categorical",
          "variance": 1.0,
          "layerNames": ["0", "2", "4"],
          "input": { "scale": 0.00392156862745098, "shift": 0.0 },
        }
        """;

    [Fact]
    public void ParsesTheExample()
    {
        var a = ModelArchitecture.Parse(Example, "arch.json");
        Assert.Equal([784, 128, 64, 10], a.Widths);
        Assert.Equal([Activation.Tanh, Activation.Tanh], a.Activations);
        Assert.Equal("categorical", a.Likelihood);
        Assert.Equal(1.0, a.Variance);
        Assert.Equal(["0", "2", "4"], a.LayerNames);
        Assert.Equal(new InputScaling(0.00392156862745098, 0.0), a.Input);
        var expected = a.ExpectedParameters();
        Assert.Equal(6, expected.Count);
        Assert.Equal("0.weight", expected[0].Name);
        Assert.Equal([128L, 784L], expected[0].Shape);
        Assert.Equal("0.bias", expected[1].Name);
        Assert.Equal([128L], expected[1].Shape);
        Assert.Equal("4.weight", expected[4].Name);
        Assert.Equal([10L, 64L], expected[4].Shape);
        var likelihood = a.CreateLikelihood();
        Assert.Equal("categorical", likelihood.Name);
        Assert.Equal(10, likelihood.Outputs);
    }

    [Fact]
    public void DefaultsAndSingleActivationAndCaseInsensitiveNames()
    {
        var a = ModelArchitecture.Parse("""{"WIDTHS": [3, 4, 4, 2], "Activation": "relu", "likelihood": "Gaussian", "Variance": 0.25}""", "a.json");
        Assert.Equal([Activation.Relu, Activation.Relu], a.Activations);
        Assert.Equal(["0", "2", "4"], a.LayerNames);
        Assert.Equal(new InputScaling(1.0, 0.0), a.Input);
        Assert.Equal("gaussian", a.Likelihood);
        Assert.Equal(0.25, a.Variance);

        var linear = ModelArchitecture.Parse("""{"widths": [3, 2], "likelihood": "bernoulli"}""", "b.json");
        Assert.Empty(linear.Activations);
        Assert.Equal(["0"], linear.LayerNames);
    }

    [Fact]
    public void ToJsonRoundTrips()
    {
        var a = ModelArchitecture.Parse(Example, "arch.json");
        var back = ModelArchitecture.Parse(a.ToJson(), "again.json");
        Assert.Equal(a, back);
        Assert.Equal(a.GetHashCode(), back.GetHashCode());

        var custom = new ModelArchitecture([5, 7, 3], [Activation.LeakyRelu(0.2)], "poisson", 1.0, ["net.1", "net.3"], new InputScaling(2.5, -1));
        Assert.Equal(custom, ModelArchitecture.Parse(custom.ToJson(), "custom.json"));
    }

    [Fact]
    public void ReadsTheFixtureFile()
    {
        var a = ModelArchitecture.Read(Support.Fixture("tiny_arch.json"));
        Assert.Equal([6, 5, 4, 3], a.Widths);
        Assert.Equal([Activation.Tanh, Activation.Relu], a.Activations);
    }

    [Theory]
    [InlineData("""{"widths": [10], "likelihood": "categorical"}""", "widths", "at least 2")]
    [InlineData("""{"activation": "tanh", "likelihood": "categorical"}""", "widths", "missing")] // no network field at all is the head form (ModelSourceTests)
    [InlineData("""{"widths": [10, 0, 3], "activation": "tanh", "likelihood": "categorical"}""", "widths[1]", "positive")]
    [InlineData("""{"widths": [10, -4, 3], "activation": "tanh", "likelihood": "categorical"}""", "widths[1]", "positive")]
    [InlineData("""{"widths": [10, 2.5, 3], "activation": "tanh", "likelihood": "categorical"}""", "widths[1]", "positive integer")]
    [InlineData("""{"widths": [10, 5, 3], "activations": ["tanh", "relu"], "likelihood": "categorical"}""", "activations", "expected 1 entries")]
    [InlineData("""{"widths": [10, 5, 3], "likelihood": "categorical"}""", "activations", "missing")]
    [InlineData("""{"widths": [10, 5, 3], "activations": ["tanhh"], "likelihood": "categorical"}""", "activations[0]", "unknown activation; expected one of")]
    [InlineData("""{"widths": [10, 5, 3], "activation": "swishy", "likelihood": "categorical"}""", "activation", "unknown activation; expected one of")]
    [InlineData("""{"widths": [10, 5, 3], "activation": "tanh", "activations": ["tanh"], "likelihood": "categorical"}""", "activation", "not both")]
    [InlineData("""{"widths": [10, 3], "likelihood": "multinomial"}""", "likelihood", "unknown likelihood; expected gaussian")]
    [InlineData("""{"widths": [10, 3]}""", "likelihood", "missing")]
    [InlineData("""{"widths": [10, 3], "likelihood": "gaussian", "variance": 0}""", "variance", "> 0")]
    [InlineData("""{"widths": [10, 3], "likelihood": "gaussian", "variance": -2}""", "variance", "> 0")]
    [InlineData("""{"widths": [10, 3], "likelihood": "gaussian", "variance": "1"}""", "variance", "expected a number")]
    [InlineData("""{"widths": [10, 5, 3], "activation": "tanh", "likelihood": "categorical", "layerNames": ["a", "a"]}""", "layerNames[1]", "duplicate name 'a'")]
    [InlineData("""{"widths": [10, 5, 3], "activation": "tanh", "likelihood": "categorical", "layerNames": ["a"]}""", "layerNames", "expected 2 names")]
    [InlineData("""{"widths": [10, 3], "likelihood": "categorical", "input": {"scale": 0}}""", "input.scale", "non-zero")]
    [InlineData("""{"widths": [10, 3], "likelihood": "categorical", "input": {"scale": "big"}}""", "input.scale", "expected a number")]
    [InlineData("""{"widths": [10, 3], "likelihood": "categorical", "input": {"scael": 2}}""", "input.scael", "unknown field")]
    [InlineData("""{"widths": [10, 3], "likelihood": "categorical", "activaton": "tanh"}""", "activaton", "unknown field")]
    [InlineData("""[1, 2]""", "(root)", "expected a JSON object")]
    public void ErrorsNameTheFileAndTheField(string json, string field, string expectation)
    {
        var e = Assert.Throws<DataFormatException>(() => ModelArchitecture.Parse(json, "models/arch.json"));
        Assert.Equal("models/arch.json", e.Path);
        Assert.StartsWith($"models/arch.json: {field}: ", e.Message);
        Assert.Contains(expectation, e.Message);
    }

    [Fact]
    public void InvalidJsonNamesTheFileAndLine()
    {
        var e = Assert.Throws<DataFormatException>(() => ModelArchitecture.Parse("{\n  \"widths\": [1, 2\n", "broken.json"));
        Assert.StartsWith("broken.json: not valid JSON (line", e.Message);
    }
}
