namespace Egress.Lab.RootTests;

/// <summary>The host scripts the root tests apply: the renderer of issue 3 once it is merged; until then the
/// test-only <see cref="DevHostScripts"/>.</summary>
internal static class TestHostScripts
{
    public static IHostScriptRenderer Renderer { get; } = new DevHostScripts();
}
