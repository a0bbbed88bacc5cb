/// The Lua shim of sslua, for the bindings (`SSLua`) and the program (`sslua`) only; the core
/// never sees it (its C runtime, without Lua, is `CRuntime`).
///
/// Why it exists: Swift cannot import Lua's function-like macros, and Lua's errors are
/// `longjmp`s that must never cross a Swift frame. Every Swift function exposed to
/// Lua is reached through `sslua_trampoline`, which calls Swift, and raises the error that
/// Swift left on the stack only after the Swift frame has returned.
#ifndef SSLUA_CLUASHIM_H
#define SSLUA_CLUASHIM_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

/* ---- Lua macros as functions ------------------------------------------------------------ */
static inline int sslua_upvalueindex(int i) { return lua_upvalueindex(i); }
static inline int sslua_registryindex(void) { return LUA_REGISTRYINDEX; }
static inline void sslua_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void sslua_newtable(lua_State *L) { lua_newtable(L); }
static inline int sslua_isnoneornil(lua_State *L, int i) { return lua_isnoneornil(L, i); }
static inline int sslua_isnil(lua_State *L, int i) { return lua_isnil(L, i); }
static inline const char *sslua_tostring(lua_State *L, int i) { return lua_tolstring(L, i, NULL); }
static inline int sslua_pcall(lua_State *L, int nargs, int nresults, int msgh) {
    return lua_pcall(L, nargs, nresults, msgh);
}
static inline void sslua_insert(lua_State *L, int i) { lua_insert(L, i); }
static inline void sslua_remove(lua_State *L, int i) { lua_remove(L, i); }
static inline void sslua_replace(lua_State *L, int i) { lua_replace(L, i); }
static inline void *sslua_newuserdata(lua_State *L, size_t sz) { return lua_newuserdatauv(L, sz, 1); }
static inline void sslua_getregistrytable(lua_State *L, const char *name) {
    lua_getfield(L, LUA_REGISTRYINDEX, name);
}
static inline int sslua_loadbuffer(lua_State *L, const char *s, size_t n, const char *name) {
    return luaL_loadbufferx(L, s, n, name, NULL);
}
static inline int sslua_loadstring(lua_State *L, const char *s) { return luaL_loadstring(L, s); }
static inline int sslua_dostring(lua_State *L, const char *s) {
    return luaL_loadstring(L, s) || lua_pcall(L, 0, LUA_MULTRET, 0);
}
static inline lua_Integer sslua_tointeger(lua_State *L, int i, int *isnum) { return lua_tointegerx(L, i, isnum); }
static inline lua_Number sslua_tonumber(lua_State *L, int i, int *isnum) { return lua_tonumberx(L, i, isnum); }

/* ---- the trampoline ----------------------------------------------------------------------- */
/// Implemented in Swift (`@_cdecl`): runs registered function `index`; returns the number of
/// results, or -1 with an error message (a string) on top of the stack. Never raises.
extern int sslua_dispatch(lua_State *L, int index);

/// Pushes a Lua C closure that calls `sslua_dispatch(L, index)` and raises its error, if any,
/// with the caller's `file:line:` prepended.
void sslua_pushfunction(lua_State *L, int index);

/// A new Lua state whose allocator keeps Lua's memory errors out of Swift frames: a failed
/// allocation inside a Swift binding is retried after releasing an emergency reserve, and the
/// trampoline raises "out of memory: ..." once the Swift function has returned. NULL when
/// the state cannot be made.
lua_State *sslua_newstate(void);
/// `lua_createtable` that never raises: LUA_OK with the table on top, or a Lua error status
/// (LUA_ERRMEM) with nothing pushed. Needs no free stack slot from the caller (it checks).
int sslua_createtable(lua_State *L, int narr, int nrec);
/// `lua_pushlstring` that never raises: LUA_OK with the string on top, or an error status
/// with nothing pushed (long strings go through a protected call).
int sslua_pushlstring(lua_State *L, const char *s, size_t len);
/// 1 while the emergency reserve is held (tests, diagnostics); 1 once the current Swift call
/// spent it (a binding in a long push loop can stop early and throw "out of memory").
int sslua_reserve_held(void);
int sslua_oom_pending(void);

/// Runs `lua_pcall` with a message handler that appends a traceback (as `lua.c` does).
/// Returns the status; the error (with traceback) or results are on the stack.
int sslua_docall(lua_State *L, int narg, int nres);

/* ---- the collector ---------------------------------------------------------------------- */
/// The collector in generational mode, as lua.c sets it: a tensor dropped right after it was
/// made (most temporaries) dies young and is freed by the next minor collection.
void sslua_gc_generational(lua_State *L);

/* ---- interruption (Ctrl-C) ---------------------------------------------------------------- */
/// Installs the SIGINT handler: it sets CRuntime's interrupt flag (which long native kernels
/// poll) and arms a hook that raises "interrupted!" at the next Lua instruction; installed
/// for the duration of a call (as lua.c's `docall`), then restored.
void sslua_sigint_install(lua_State *L);
void sslua_sigint_restore(void);

/* ---- files ------------------------------------------------------------------------------ */
/// Pushes a Lua file handle (as `io.open` makes) over `fd` opened with the C `mode`. Returns 0
/// with the handle on top; another Lua status with the error message on top; or -1 with errno
/// and nothing pushed. On failure `fd` is closed. Never raises.
int sslua_push_file(lua_State *L, int fd, const char *mode);

#endif
