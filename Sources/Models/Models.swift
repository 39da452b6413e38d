// Placeholder so the Models target builds before its first model lands; removed once real files exist.
