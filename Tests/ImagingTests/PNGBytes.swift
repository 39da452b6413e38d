/// A minimal PNG writer for tests, independent of libpng: signature, IHDR, optional PLTE and tRNS, one
/// IDAT holding the scanlines (filter byte 0) in zlib "stored" (uncompressed) deflate blocks, IEND; CRC-32
/// and Adler-32 by hand. It writes what the project's encoder never does (gray, palette, a header that
/// lies about the size), so the decoder can be tested on such files.
enum PNGBytes {
    /// IHDR colour types.
    static let gray: UInt8 = 0, rgb: UInt8 = 2, palette: UInt8 = 3, grayAlpha: UInt8 = 4, rgba: UInt8 = 6

    /// A PNG of `width` x `height` whose rows are `rows` (each without its filter byte). `idat` replaces the
    /// image data (e.g. a few bytes under a header that claims a huge size).
    static func make(width: Int, height: Int, bitDepth: UInt8 = 8, colorType: UInt8, rows: [[UInt8]] = [],
                     palette: [[UInt8]] = [], transparency: [UInt8] = [], idat: [UInt8]? = nil) -> [UInt8] {
        var out: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        out += chunk("IHDR", be32(width) + be32(height) + [bitDepth, colorType, 0, 0, 0])
        if !palette.isEmpty { out += chunk("PLTE", palette.flatMap { $0 }) }
        if !transparency.isEmpty { out += chunk("tRNS", transparency) }
        out += chunk("IDAT", idat ?? zlibStored(rows.flatMap { [0] + $0 }))
        out += chunk("IEND", [])
        return out
    }

    static func be32(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(data.count) + body + be32(Int(crc32(body)))
    }

    /// zlib stream (no compression): header 78 01, stored blocks of <= 65535 bytes, Adler-32.
    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var i = 0
        repeat {
            let n = min(65535, data.count - i)
            let last: UInt8 = i + n == data.count ? 1 : 0
            out += [last, UInt8(n & 0xff), UInt8(n >> 8), UInt8(~n & 0xff), UInt8((~n >> 8) & 0xff)]
            out += data[i..<(i + n)]
            i += n
        } while i < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for x in data { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
        return out + be32(Int(b << 16 | a))
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for x in bytes {
            c ^= UInt32(x)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }
}
