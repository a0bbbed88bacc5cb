import XCTest

/// A quick XCTest-side check that the program starts and the toolkit loads; the substance of
/// the suite is in the Swift Testing cases (one per Lua test file, plus the program tests).
final class SmokeXCTests: XCTestCase {
    func testToolkitLoads() throws {
        let r = try runSSLua(["-e", "assert(sslua.version and sslua.zeros(2):numel() == 2) print('ok')"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "ok\n")
    }
}
