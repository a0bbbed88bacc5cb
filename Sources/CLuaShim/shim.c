/* The Lua side of the program (see include/CLuaShim.h): the trampoline, Lua's allocator with
   its emergency reserve, protected table and string creation, SIGINT, file handles. What
   knows nothing of Lua (memory counters, the interrupt flag, the worker pool) is CRuntime. */
#include "CLuaShim.h"
#include "CRuntime.h"
#include <signal.h>
#include <stdatomic.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

void sslua_gc_generational(lua_State *L) { lua_gc(L, LUA_GCGEN, 0, 0); }

/* Tell Lua's collector about native memory, which it cannot see. Once a megabyte of tensors
   has been allocated since the last report, a collector step: in generational mode (set by
   main, as lua.c does) that is a minor collection, which frees the tensors that died young,
   i.e. most temporaries, for the price of visiting the young objects only. Tensors that lived
   through two minor collections (an autograd graph's activations) are old and only a major
   collection frees them, and Lua starts those by its own heap's growth, not ours: so once the
   tensors allocated since the last full collection reach a quarter of the live native bytes
   (at least 64 MB), a full collection. Peak memory then stays near the live set. */
static _Atomic int64_t since_collect = 0;

static void report_pending(lua_State *L) {
    int64_t p = sslua_take_pending_bytes((int64_t)1 << 20);
    if (p == 0) return;
    int64_t since = atomic_fetch_add(&since_collect, p) + p;
    int64_t live = sslua_live_bytes();
    int64_t limit = live / 4 > ((int64_t)64 << 20) ? live / 4 : ((int64_t)64 << 20);
    if (since >= limit) {
        atomic_store(&since_collect, 0);
        lua_gc(L, LUA_GCCOLLECT);
        return;
    }
    lua_gc(L, LUA_GCSTEP, 0);
}

/* ---- Lua's allocator: memory errors never longjmp through a Swift frame ---------
   Lua raises LUA_ERRMEM by longjmp from inside the allocation that failed. Inside a Swift
   binding (lua_createtable, lua_pushstring, ... called from Swift) that longjmp would skip
   Swift frames. So while a Swift function runs (`in_swift`, set by the trampoline), a failed
   allocation is retried after releasing an emergency reserve of address space held aside,
   and `oom_pending` is set; when the Swift function has returned, the trampoline raises
   "out of memory: <function>" as an ordinary Lua error and takes the reserve again. Outside
   Swift frames the allocator is Lua's own (realloc/free; NULL is Lua's memory error). Lua
   runs on one thread, so plain globals suffice. The reserve is address space only (mapped
   PROT_NONE, never touched): it is what `ulimit -v` counts, and costs no memory. */
#include <sys/mman.h>

#define SSLUA_RESERVE_BYTES ((size_t)32 << 20)
static void *reserve_block = NULL;
static int reserve_wanted = 0; /* set by sslua_newstate: other states (tests) hold none */
static int in_swift = 0;      /* 1 while the innermost native call is a Swift function */
static int oom_pending = 0;   /* the reserve was spent inside the current Swift call */

static void take_reserve(void) {
    if (reserve_block || !reserve_wanted) return;
    void *p = mmap(NULL, SSLUA_RESERVE_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    reserve_block = p == MAP_FAILED ? NULL : p;
}

static void release_reserve(void) {
    if (!reserve_block) return;
    munmap(reserve_block, SSLUA_RESERVE_BYTES);
    reserve_block = NULL;
}

int sslua_reserve_held(void) { return reserve_block != NULL; }
int sslua_oom_pending(void) { return oom_pending; }

/* Headroom for Swift: Swift's own small allocations (strings, arrays) end the process when
   they fail, so Lua must meet the memory's end first. Every 32 MB of growth of Lua's heap, a
   probe asks malloc for 96 MB (released at once): when it is refused, the allocation is
   refused too outside Swift frames (Lua's memory error, with room left for Swift), and
   inside one it goes on but marks the call, which the trampoline then ends in an error. */
#define SSLUA_PROBE_STEP ((size_t)32 << 20)
#define SSLUA_HEADROOM ((size_t)96 << 20)
static size_t lua_bytes = 0, next_probe = SSLUA_PROBE_STEP;
static void *volatile probe_sink = NULL;

static int headroom_ok(void) {
    void *p = malloc(SSLUA_HEADROOM);
    if (p == NULL) return 0;
    probe_sink = p;   /* escapes: the malloc/free pair is not optimised away */
    free(p);
    return 1;
}

static void *lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    (void)ud;
    size_t old = ptr ? osize : 0;   /* without a block, osize is the kind of object */
    if (nsize == 0) {
        free(ptr);
        lua_bytes -= old < lua_bytes ? old : lua_bytes;
        if (lua_bytes + SSLUA_PROBE_STEP < next_probe) next_probe = lua_bytes + SSLUA_PROBE_STEP;
        return NULL;
    }
    if (nsize > old && lua_bytes + (nsize - old) >= next_probe && !(in_swift && oom_pending)) {
        if (headroom_ok()) next_probe = lua_bytes + (nsize - old) + SSLUA_PROBE_STEP;
        else if (!in_swift) return NULL;
        else oom_pending = 1;
    }
    void *p = realloc(ptr, nsize);
    if (p == NULL && in_swift) {
        /* glibc may have the bytes in the heap once the reserve's address space is free;
           a shrink (osize >= nsize) cannot fail in Lua's eyes, so it is retried as well */
        oom_pending = 1;
        release_reserve();
        malloc_trim(0);
        p = realloc(ptr, nsize);
    }
    if (p != NULL) {
        lua_bytes += nsize;
        lua_bytes -= old < lua_bytes ? old : lua_bytes;
    }
    return p;
}

lua_State *sslua_newstate(void) {
    lua_State *L = luaL_newstate();   /* lauxlib's panic and warning functions */
    if (L == NULL) return NULL;
    lua_setallocf(L, lua_alloc, NULL); /* the same realloc/free underneath: blocks carry over */
    reserve_wanted = 1;
    take_reserve();
    return L;
}

/* `lua_createtable` under a protected call: the array part of a table whose size a user
   controls can be bigger than the reserve. */
static int createtable_k(lua_State *L) {
    int narr = (int)lua_tointeger(L, 1), nrec = (int)lua_tointeger(L, 2);
    lua_createtable(L, narr, nrec);
    return 1;
}

int sslua_createtable(lua_State *L, int narr, int nrec) {
    if (narr < 0) narr = 0;
    if (nrec < 0) nrec = 0;
    if (narr <= 256 && nrec <= 256) { lua_createtable(L, narr, nrec); return LUA_OK; }
    if (!lua_checkstack(L, 3)) return LUA_ERRMEM;
    lua_pushcfunction(L, createtable_k);   /* a light C function: nothing allocated */
    lua_pushinteger(L, narr);
    lua_pushinteger(L, nrec);
    int saved = in_swift;
    in_swift = 0;                          /* the protected call catches the error in C */
    int status = lua_pcall(L, 2, 1, 0);
    in_swift = saved;
    if (status != LUA_OK) lua_pop(L, 1);
    return status;
}

/* `lua_pushlstring` under a protected call for a long string (its bytes come from a file):
   a string bigger than the reserve would otherwise raise Lua's memory error through Swift. */
static int pushlstring_k(lua_State *L) {
    const char *p = (const char *)lua_touserdata(L, 1);
    size_t n = (size_t)lua_tointeger(L, 2);
    lua_pushlstring(L, p, n);
    return 1;
}

int sslua_pushlstring(lua_State *L, const char *s, size_t len) {
    if (len <= 4096) { lua_pushlstring(L, s, len); return LUA_OK; }
    if (!lua_checkstack(L, 3)) return LUA_ERRMEM;
    lua_pushcfunction(L, pushlstring_k);   /* light values only: nothing allocated */
    lua_pushlightuserdata(L, (void *)s);
    lua_pushinteger(L, (lua_Integer)len);
    int saved = in_swift;
    in_swift = 0;
    int status = lua_pcall(L, 2, 1, 0);
    in_swift = saved;
    if (status != LUA_OK) lua_pop(L, 1);
    return status;
}

static int trampoline(lua_State *L) {
    int index = (int)lua_tointeger(L, lua_upvalueindex(1));
    /* The native memory the previous calls allocated is reported before this call runs, not
       after: by now their results are usually dropped (`local y = x:relu()` in a loop), so
       the collection frees them and this call's output reuses their warm blocks. */
    report_pending(L);
    /* a reserve spent by an earlier call is taken again here, once that call's error has
       unwound and its caller had the chance to drop what filled the memory */
    if (!reserve_block) take_reserve();
    int saved_in = in_swift, saved_oom = oom_pending;
    in_swift = 1;
    oom_pending = 0;
    int n = sslua_dispatch(L, index);
    int oom = oom_pending;
    in_swift = saved_in;
    oom_pending = saved_oom;
    if (oom) {
        /* the Swift frame has returned: drop what it pushed, collect and raise the memory
           error as an ordinary one (the reserve is taken again by the next native call, so
           that the message and the traceback have the room it left) */
        lua_settop(L, 0);
        lua_gc(L, LUA_GCCOLLECT);
        lua_Debug ar;
        const char *name = NULL;
        if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "n", &ar)) name = ar.name;
        luaL_where(L, 1);
        lua_pushfstring(L, "out of memory: Lua could not allocate inside native function '%s'",
                        name ? name : "?");
        lua_concat(L, 2);
        return lua_error(L);
    }
    if (n < 0) {
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
        return lua_error(L);  /* the Swift frame has returned: safe to longjmp */
    }
    return n;
}

void sslua_pushfunction(lua_State *L, int index) {
    lua_pushinteger(L, index);
    lua_pushcclosure(L, trampoline, 1);
}

static int msghandler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* ---- SIGINT, as lua.c: a hook raises "interrupted!" at the next Lua instruction ---------- */
static lua_State *globalL = NULL;
static void (*previous)(int) = SIG_DFL;

static void lstop(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    sslua_clear_interrupt();
    luaL_error(L, "interrupted!");
}

static void laction(int i) {
    int flag = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
    signal(i, SIG_DFL); /* a second Ctrl-C kills the process */
    sslua_set_interrupt();
    if (globalL) lua_sethook(globalL, lstop, flag, 1);
}

void sslua_sigint_install(lua_State *L) {
    globalL = L;
    sslua_clear_interrupt();
    previous = signal(SIGINT, laction);
}

void sslua_sigint_restore(void) {
    signal(SIGINT, previous == SIG_ERR ? SIG_DFL : previous);
}

int sslua_docall(lua_State *L, int narg, int nres) {
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    sslua_sigint_install(L);
    int status = lua_pcall(L, narg, nres, base);
    sslua_sigint_restore();
    /* After an error (out of memory above all) what the chunk held is unreachable: collect
       it before returning to Swift, whose reporting of the error needs memory of its own. */
    if (status != LUA_OK) lua_gc(L, LUA_GCCOLLECT);
    /* A Ctrl-C that a native kernel consumed (it raised "interrupted!" itself) leaves lstop
       armed: drop it so that it does not fire again in the next chunk. */
    if (lua_gethook(L) == lstop) lua_sethook(L, NULL, 0, 0);
    sslua_clear_interrupt();
    lua_remove(L, base);
    return status;
}

/* ---- Lua file handles over a descriptor (the sandbox's io.open) ------------------------ */
#include <errno.h>
#include <unistd.h>

/* A Lua file handle as liolib makes them (luaL_Stream with the LUA_FILEHANDLE metatable), so
   that every file method, io.type, io.output and __gc work on it. */
static int file_close(lua_State *L) {
    luaL_Stream *p = (luaL_Stream *)luaL_checkudata(L, 1, LUA_FILEHANDLE);
    errno = 0;
    return luaL_fileresult(L, fclose(p->f) == 0, NULL);
}

static int new_file(lua_State *L) {
    FILE **owner = (FILE **)lua_touserdata(L, 1);
    luaL_Stream *p = (luaL_Stream *)lua_newuserdatauv(L, sizeof(luaL_Stream), 0);
    p->closef = NULL; /* a closed file until it is complete */
    luaL_setmetatable(L, LUA_FILEHANDLE);
    p->f = *owner;
    p->closef = &file_close;
    *owner = NULL; /* the handle owns the stream now */
    return 1;
}

int sslua_push_file(lua_State *L, int fd, const char *mode) {
    if (!lua_checkstack(L, 3)) { close(fd); errno = ENOMEM; return -1; }
    FILE *f = fdopen(fd, mode);
    if (f == NULL) { int e = errno; close(fd); errno = e; return -1; }
    lua_pushcfunction(L, new_file);
    lua_pushlightuserdata(L, &f);
    int status = lua_pcall(L, 1, 1, 0);
    if (f != NULL) fclose(f); /* the handle was not made: the error message is on top */
    return status;
}
