-- Writes docs/API.md from the docstrings in lua/sslua/doc/*.lua (the one source of truth):
--   sslua scripts/gen_api.lua > docs/API.md
-- Tests/lua/test_help_api.lua fails when the committed file differs from this output.
io.write(require("sslua.help").markdown())
