import Foundation

/// Foundation's JSONDecoder keeps one of two equal keys of an object and drops the other without a word,
/// so a safetensors header naming a tensor twice would load whichever entry it kept. This scan finds such
/// a repeat in the header's bytes (after the decoder has accepted them as JSON) so the reader refuses it.
enum DuplicateKeys {
    /// The dotted path of the first key that repeats within one object (`w` at the top level, `w.dtype`
    /// inside an entry), or nil. Keys are compared after unescaping (`"w"` and `"\u0077"` are equal).
    static func first(in json: Data) -> String? {
        struct Frame { var isObject: Bool; var keys: Set<String> = []; var expectingKey: Bool; var lastKey: String? }
        var stack: [Frame] = []
        var path: [String] = []
        let bytes = [UInt8](json)
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if let parent = stack.last { path.append(parent.isObject ? parent.lastKey ?? "" : "[]") }
                stack.append(Frame(isObject: c == UInt8(ascii: "{"), expectingKey: c == UInt8(ascii: "{")))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                stack.removeLast()
                if !stack.isEmpty { path.removeLast() }
            case UInt8(ascii: ","):
                if stack.last?.isObject == true { stack[stack.count - 1].expectingKey = true }
            case UInt8(ascii: "\""):
                let start = i
                i += 1
                while i < bytes.count && bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
                guard var top = stack.last, top.isObject, top.expectingKey else { break }
                let key = unescaped(bytes[start...min(i, bytes.count - 1)])
                if top.keys.contains(key) { return (path + [key]).joined(separator: ".") }
                top.keys.insert(key)
                top.expectingKey = false
                top.lastKey = key
                stack[stack.count - 1] = top
            default:
                break
            }
            i += 1
        }
        return nil
    }

    /// A quoted JSON string (quotes included) as its value; plain ASCII/UTF-8 without escapes directly.
    private static func unescaped(_ quoted: ArraySlice<UInt8>) -> String {
        let inner = quoted.dropFirst().dropLast()
        guard inner.contains(UInt8(ascii: "\\")) else { return String(decoding: inner, as: UTF8.self) }
        return (try? JSONDecoder().decode(String.self, from: Data(quoted))) ?? String(decoding: inner, as: UTF8.self)
    }
}
