// Placeholder so the ModelsTests target builds before its first test lands; removed once real tests exist.
