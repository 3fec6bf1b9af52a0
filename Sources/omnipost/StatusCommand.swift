import ArgumentParser
import Foundation
import OmniPostCore
import OmniPostLedger
import OmniPostPipeline

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show drops and deliveries from a pipeline's ledger.")

    @Argument(help: "Pipeline file.") var pipeline: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let config = try PipelineConfig.load(path: pipeline)
        let ledger = try Ledger(path: config.paths.ledger.path)
        if json {
            let out = ["drops": try ledger.drops(), "deliveries": []] as [String: [DropRecord]]
            var obj = try JSONSerialization.jsonObject(with: JSONCoding.encoder().encode(out)) as! [String: Any]
            obj["deliveries"] = try JSONSerialization.jsonObject(with: JSONCoding.encoder().encode(ledger.allDeliveries()))
            obj["inboxes"] = try ledger.watchModes()
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
        } else {
            for line in try ledger.watchModes() { print("inbox \(line)") }
            print(try SummaryTable.render(ledger: ledger, since: nil))
        }
    }
}
