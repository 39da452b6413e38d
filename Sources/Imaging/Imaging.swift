import CPNG
public func _pngProbe() -> UInt32 { png_access_version_number() }
