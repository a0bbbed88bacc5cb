/// Quoted string literals for the formats the toolkit writes: JSON (`.safetensors` headers)
/// and Lua source (code the REPL and the Jupyter kernel generate). Both escape the quote, the
/// backslash and the line breaks alike; they differ in the form of other control characters.
public enum StringLiteral {
    /// A JSON string literal: control characters as `\u00XX`.
    public static func json(_ s: String) -> String {
        quoted(s) { "\\u" + zeroPadded(String($0, radix: 16), 4) }
    }

    /// A Lua string literal: control characters as three-digit decimal escapes (`\009`), which
    /// no following digit can extend.
    public static func lua(_ s: String) -> String {
        quoted(s) { "\\" + zeroPadded(String($0), 3) }
    }

    static func quoted(_ s: String, control: (UInt32) -> String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 { out += control(u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }

    static func zeroPadded(_ digits: String, _ width: Int) -> String {
        String(repeating: "0", count: Swift.max(0, width - digits.count)) + digits
    }
}
