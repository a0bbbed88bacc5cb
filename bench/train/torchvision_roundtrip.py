"""Cross-check with torchvision (manual, needs the PyTorch virtualenv):

    /tmp/bench/bin/python bench/train/torchvision_roundtrip.py

sslua builds resnet18{cifar=true}, trains it one step (so running statistics move), saves its
state dict and eval-mode outputs; torchvision's resnet18 (CIFAR stem, fc removed) loads the
checkpoint by name and must give the same outputs; then torchvision's weights go back into
sslua and give torchvision's outputs.
"""
import os
import subprocess
import tempfile
import numpy as np
import torch
import torch.nn as nn
import torchvision
import json
import struct


# minimal safetensors reader/writer (float32/float64/int64), to need no extra package
DT = {"F32": (np.float32, 4), "F64": (np.float64, 8), "I64": (np.int64, 8)}


def load_file(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        head = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, e in head.items():
        if k == "__metadata__":
            continue
        a, b = e["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype=DT[e["dtype"]][0]).reshape(e["shape"])
        out[k] = torch.from_numpy(arr.copy())
    return out


def save_file(tensors, path):
    head, blobs, off = {}, [], 0
    for k in sorted(tensors):
        t = tensors[k].detach().cpu().numpy()
        code = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int64): "I64"}[t.dtype]
        b = t.tobytes()
        head[k] = {"dtype": code, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(head).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
d = tempfile.mkdtemp()
lua = r'''
local nn = require "sslua.nn"
local optim = require "sslua.optim"
local d = ...
sslua.manual_seed(1)
local m = nn.resnet18 { cifar = true }
local x = sslua.randn(4, 3, 32, 32)
local opt = optim.SGD(m, { lr = 0.1 })
local h = m(x); (h * h):mean():backward(); opt:step()
m:eval()
sslua.save(d .. "/ckpt.safetensors", m:state_dict())
sslua.save(d .. "/io.safetensors", { x = x, y = m(x) })
local back = sslua.load(d .. "/tv.safetensors")
if back then
  m:load_state_dict(back)
  sslua.save(d .. "/y_tv_in_sslua.safetensors", { y = m(x) })
end
'''
with open(os.path.join(d, "rt.lua"), "w") as f:
    f.write(lua)
sslua = os.path.join(root, ".build/release/sslua")

tv = torchvision.models.resnet18()
tv.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
tv.maxpool = nn.Identity()
tv.fc = nn.Identity()
# write torchvision's own (randomly initialised) weights for the way back
sd = {k: v.float().clone() for k, v in tv.state_dict().items()}
save_file(sd, os.path.join(d, "tv.safetensors"))
subprocess.run([sslua, os.path.join(d, "rt.lua"), d], check=True, cwd=root)

ck = load_file(os.path.join(d, "ckpt.safetensors"))
missing, unexpected = tv.load_state_dict(ck, strict=True), None
io = load_file(os.path.join(d, "io.safetensors"))
tv.eval()
with torch.no_grad():
    y = tv(io["x"])
err = (y - io["y"]).abs().max().item()
print("sslua checkpoint in torchvision: max |y_torch - y_sslua| = %.3g" % err)
assert err < 1e-3, err

with torch.no_grad():
    tv.load_state_dict({k: v for k, v in sd.items()})
    y2 = tv(io["x"])
back = load_file(os.path.join(d, "y_tv_in_sslua.safetensors"))["y"]
err2 = (y2 - back).abs().max().item()
print("torchvision weights in sslua: max |y_torch - y_sslua| = %.3g" % err2)
assert err2 < 1e-3, err2
print("round trip ok")
