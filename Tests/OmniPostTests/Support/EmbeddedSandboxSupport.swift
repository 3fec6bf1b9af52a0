import OmniPostEmbedded
import OmniPostPipeline
import OmniPostSandbox

extension TestPipelines {
    /// The bundled sandbox, handed to a pipeline the way the executable hands it (`EmbeddedSandbox`).
    static var embedding: EmbeddedSandbox { EmbeddedSandbox() }
}

extension Pipeline {
    /// The sandbox a pipeline in sandbox mode talks to, for tests that look into it or set its faults.
    var sandbox: SandboxServer? { (embedded as? EmbeddedSandbox.Running)?.server }
}
