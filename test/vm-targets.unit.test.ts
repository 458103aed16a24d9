import test from "ava";
import { axisTargets } from "../bench/local/axis-targets.js";
import { parseTargetSpec } from "../bench/local/targets.js";

// A local VM target's image file stands for a disk of a Proxmox directory storage: raw or qcow2, as there.

test("a VM target's image is a directory storage's file: raw by default, qcow2 with format=qcow2", (t) => {
  t.like(parseTargetSpec("r=vm:cache=none"), { vm: { storage: "dir", format: "raw", aio: "io_uring" } });
  t.like(parseTargetSpec("q=vm:cache=none,format=qcow2"), { vm: { storage: "dir", format: "qcow2" } });
  t.regex(
    t.throws(() => parseTargetSpec("v=vm:format=vmdk"))?.message ?? "",
    /VM target "v": format "vmdk" is not allowed: use one of raw, qcow2/,
  );
  // An RBD image is raw, as pve-storage makes it (RBDPlugin.pm declares no formats).
  t.regex(
    t.throws(() => parseTargetSpec("g=vm:format=qcow2,rbd=rbd/guest"))?.message ?? "",
    /format qcow2 on storage rbd: a rbd storage takes raw \(pve-storage src\/PVE\/Storage\/RBDPlugin\.pm/,
  );
});

test("--axes format=raw,qcow2 makes a target of each, crossed with the other axes", (t) => {
  const { targets } = axisTargets({ axes: "format=raw,qcow2;cache=none,writeback" });
  t.deepEqual(
    targets.map((target) => [target.name, target.vm.format, target.vm.cache, target.vm.storage]),
    [
      ["raw-none", "raw", "none", "dir"],
      ["raw-wb", "raw", "writeback", "dir"],
      ["qcow2-none", "qcow2", "none", "dir"],
      ["qcow2-wb", "qcow2", "writeback", "dir"],
    ],
  );
});
