-- `sslua kernel` with the real Jupyter clients: Tests/kernel/drive.py installs the kernelspec
-- into a temporary prefix and drives the kernel with jupyter_client (execute, state, errors,
-- rich display, completion, inspection, interrupts, bad messages, shutdown) and nbclient
-- (examples/geometry_tour.ipynb). jupyter_client, nbclient and nbformat come from PyPI into a
-- virtualenv outside the repository (SSLUA_JUPYTER_VENV, default /tmp/sslua-jupyter), made
-- once and reused. Every run is bounded by `timeout`.
package.path = "Tests/lua/lib/?.lua;" .. package.path
local check = require "check"
local sslua_bin = arg[-1]

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local venv = os.getenv("SSLUA_JUPYTER_VENV") or "/tmp/sslua-jupyter"
local py = venv .. "/bin/python"
local have = "import jupyter_client, nbclient, nbformat"

if not os.execute(q(py) .. " -c " .. q(have) .. " >/dev/null 2>&1") then
  local made = os.execute("python3 -m venv " .. q(venv) .. " && timeout 600 " .. q(venv .. "/bin/pip")
    .. " install -q jupyter_client nbclient nbformat")
  check.truthy(made, "a virtualenv with jupyter_client, nbclient, nbformat at " .. venv
    .. " (python3 -m venv needs python3-venv; pip needs PyPI)")
  check.truthy(os.execute(q(py) .. " -c " .. q(have)), "the virtualenv imports jupyter_client, nbclient, nbformat")
end

local p = io.popen("timeout 150 " .. q(py) .. " -u Tests/kernel/drive.py " .. q(sslua_bin) .. " . 2>&1")
local out = p:read("a")
local ok = p:close()
check.truthy(ok and out:find("\n0 failure%(s%)\n"), "Tests/kernel/drive.py:\n" .. out)
