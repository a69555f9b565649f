import Catalog
import Inference

extension ModelMetadata {
    /// What the catalog records for a slice running `option`: the width level's prune fraction, plus the option's
    /// name when it is a slice option (docs/pruned-levels.md).
    func sliceLevel(option: Int) -> SliceLevel {
        SliceLevel(
            fraction: widthFraction(option: option), option: option < pruneLevels.count ? nil : optionName(option))
    }
}
