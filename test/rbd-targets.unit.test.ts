import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import test from "ava";
import { createRbdImage } from "../bench/ceph/rbd-image.js";
import { selectProfile } from "../bench/core/job-file-profile.js";
import { RBD_TARGET, renderJobFile, renderRbdFillJob } from "../bench/core/jobfile.js";
import { parseTargetSpec } from "../bench/local/targets.js";

// `--target NAME=rbd:POOL/IMAGE[:id=USER][:conf=PATH]` and a VM target's rbd=, and the job text fio's rbd engine runs.

test("an RBD target: pool, image, cephx id and ceph.conf, as QEMU's rbd: file names write them", (t) => {
  t.like(parseTargetSpec("ceph=rbd:vmpool/bench:id=bench:conf=/etc/ceph/lab.conf"), {
    name: "ceph",
    rbd: { pool: "vmpool", image: "bench", id: "bench", conf: "/etc/ceph/lab.conf" },
  });
  const plain = parseTargetSpec("c=rbd:rbd/x");
  t.deepEqual(
    plain.rbd,
    { pool: "rbd", image: "x" },
    "Ceph's defaults (client.admin, /etc/ceph/ceph.conf) stay Ceph's",
  );
  t.is(plain.vm, undefined);
});

test("bad RBD targets are refused, naming the bad part and what is allowed", (t) => {
  const refused = (spec: string) => t.throws(() => parseTargetSpec(spec))?.message ?? "";
  t.regex(refused("c=rbd:rbd"), /RBD target "c": "rbd" is not POOL\/IMAGE, e\.g\. rbd\/layerbench-test/);
  t.regex(refused("c=rbd:rbd/x:user=bench"), /unknown option "user": use id=USER or conf=PATH/);
  t.regex(refused("c=rbd:rbd/x:id"), /"id" is not KEY=VALUE/);
  t.regex(refused("c=rbd:rbd/x y"), /image "x y" is not allowed: use letters, digits/);
  t.regex(refused("c=rbd:rbd/x:conf=/a,b"), /a path with ',' ':' or a line break cannot reach fio and QEMU whole/);
});

test("a VM target's disk on RBD: rbd=, id= and conf=; id without rbd and Proxmox VE 8.4's shape are refused", (t) => {
  const target = parseTargetSpec("g=vm:bus=virtio-blk,cache=none,rbd=rbd/guest,id=bench,conf=/c/ceph.conf");
  t.like(target, { vm: { bus: "virtio-blk", cache: "none", storage: "rbd" }, pve: "9" });
  // A librbd disk gets no aio, so none is refused for want of O_DIRECT.
  t.like(parseTargetSpec("g=vm:cache=writeback,aio=native,rbd=rbd/guest"), { vm: { aio: "native" } });
  t.deepEqual(target.rbd, { pool: "rbd", image: "guest", id: "bench", conf: "/c/ceph.conf" });
  t.regex(
    t.throws(() => parseTargetSpec("g=vm:cache=none,id=bench"))?.message ?? "",
    /id= and conf= belong to a disk on RBD: add rbd=POOL\/IMAGE/,
  );
  t.regex(
    t.throws(() => parseTargetSpec("g=vm:cache=none,rbd=rbd/x,pve=8"))?.message ?? "",
    /pve=8 with rbd= is not supported/,
  );
});

test("the rbd job text: ioengine=rbd before the engine's options in every section, each job its own region", async (t) => {
  const profile = await selectProfile("ars", { size: "8m" });
  const text = renderJobFile(profile, RBD_TARGET);
  const sections = text.split(/^\[/m).slice(2);
  t.is(sections.length, profile.workloads.length);
  for (const section of sections) {
    const lines = section.split("\n");
    const engine = lines.indexOf("ioengine=rbd");
    t.true(engine > 0, "the section picks the rbd engine");
    for (const option of ["clientname=", "pool=", "rbdname="])
      t.true(lines.findIndex((line) => line.startsWith(option)) > engine, `${option} after ioengine=rbd`);
  }
  t.regex(text, /\[randwrite-64k-16x16\][^[]*offset_increment=8m/, "16 jobs, 16 regions of one image");
  t.regex(text, /rbdname=\$\{LAYERBENCH_TARGET\}/);
  const fill = renderRbdFillJob(128 * 1024 ** 2);
  t.regex(fill, /^rw=write$/m);
  t.regex(fill, /^direct=1$/m, "the fill bypasses librbd's cache");
  t.regex(fill, /^size=128m$/m);
});

test("an image a stopped fio still watches is removed once the watch is let go, and no longer recorded", async (t) => {
  const dir = await fs.mkdtemp(join(tmpdir(), "layerbench-rbd-"));
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  // A stand-in rbd: the first `rm` refused as Ceph refuses while fio's client still watches the image.
  await fs.writeFile(
    join(dir, "rbd"),
    [
      "#!/bin/sh",
      `echo "$*" >> "${dir}/calls"`,
      'case " $* " in',
      `  *" rm "*) [ -e "${dir}/refused" ] || { touch "${dir}/refused"; echo "rbd: error: image still has watchers" >&2; exit 16; } ;;`,
      "esac",
    ].join("\n"),
    { mode: 0o755 },
  );
  const [path, locks] = [process.env.PATH, process.env.LAYERBENCH_LOCK_DIR];
  process.env.PATH = `${dir}:${path}`;
  process.env.LAYERBENCH_LOCK_DIR = join(dir, "locks");
  t.teardown(() => {
    process.env.PATH = path;
    process.env.LAYERBENCH_LOCK_DIR = locks;
  });
  const image = { pool: "rbd", image: "lb-watched" };
  const remove = await createRbdImage(image, 8 * 1024 ** 2, "RBD image rbd/lb-watched");
  const records = () => fs.readdir(join(dir, "locks", "leftovers"));
  t.is((await records()).length, 1, "recorded while it exists");
  await remove();
  t.deepEqual((await fs.readFile(join(dir, "calls"), "utf8")).trim().split("\n"), [
    "create --size 8M rbd/lb-watched",
    "rm --no-progress rbd/lb-watched",
    "info rbd/lb-watched",
    "rm --no-progress rbd/lb-watched",
  ]);
  t.deepEqual(await records(), [], "removed, so the next run has nothing to sweep");
});
