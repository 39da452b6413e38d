import CSQLite
public func _sqliteProbe() -> Int32 { sqlite3_libversion_number() }
