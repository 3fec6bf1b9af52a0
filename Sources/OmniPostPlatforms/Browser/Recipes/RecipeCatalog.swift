import Foundation
import OmniPostCore

/// Where a platform's recipe comes from: the account's `recipe:` file when it names one (a user's
/// override replaces the bundled recipe whole — docs/recipes.md), else the one shipped in
/// `Resources/recipes/<platform>.yaml`.
package enum RecipeCatalog {
    package static func bundled(_ platform: String) throws -> Recipe {
        guard let url = Bundle.module.url(forResource: platform, withExtension: "yaml", subdirectory: "recipes") else {
            throw OmniError(.recipeInvalid, "this build has no recipe for \(platform)")
        }
        return try Recipe.load(path: url.path, displayName: "recipes/\(platform).yaml")
    }

    /// The recipe an account uses.
    package static func recipe(for account: AccountConfig) throws -> Recipe {
        if let n = account.setting("recipe") {
            let path = try n.string()
            let r = try Recipe.load(path: path)
            guard r.platform == account.platform else {
                throw n.fail(.recipeInvalid, "\(path) is a recipe for \(r.platform), not \(account.platform)")
            }
            return r
        }
        return try bundled(account.platform)
    }
}
