import CLua
import CShim
import SSLua
import Foundation

let L = luaL_newstate()!
if let err = Toolkit.open(L) { FileHandle.standardError.write("sslua: \(err)\n".data(using: .utf8)!); exit(1) }
let args = CommandLine.arguments
if args.count > 1 {
    if luaL_loadfilex(L, args[1], nil) != LUA_OK || sslua_docall(L, 0, 0) != LUA_OK {
        FileHandle.standardError.write("sslua: \(String(cString: lua_tolstring(L, -1, nil)))\n".data(using: .utf8)!)
        exit(1)
    }
}
