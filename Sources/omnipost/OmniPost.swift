import ArgumentParser

@main
struct OmniPost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "omnipost",
        abstract: "Publishes video dropped into inbox folders to video platforms, exactly once.",
        subcommands: [
            RunCommand.self, CheckCommand.self, PlanCommand.self, StatusCommand.self, RetryCommand.self, CancelCommand.self, ApproveCommand.self, RejectCommand.self, AccountsCommand.self, DoctorCommand.self, NotifyCommand.self,
            SandboxCommand.self, StatsCommand.self, ExportCommand.self,
            LedgerCommand.self
        ])
}
