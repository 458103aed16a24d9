import { promises as fs } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { type FioTarget, renderJobFile } from "../bench/core/jobfile.js";
import { PROFILE_IDS, resolveProfile } from "../bench/core/profiles.js";
import { formatFioSize, parseSize } from "../bench/util/size.js";
import { execFileAsync, scratchDir } from "./helpers/fio.js";

test("sizes are binary and accept fio's and people's spellings", (t) => {
  t.is(parseSize("32m"), 32 * 1024 ** 2);
  t.is(parseSize("4G"), 4 * 1024 ** 3);
  t.is(parseSize("256MiB"), 256 * 1024 ** 2);
  t.is(parseSize("1.5g"), 1.5 * 1024 ** 3);
  t.is(parseSize("4096"), 4096);
  t.is(formatFioSize(parseSize("16g")), "16g");
  t.is(formatFioSize(1536 * 1024), "1536k");
  t.is(formatFioSize(1000), "1000");
  for (const bad of ["", "12x", "-1m", "0", "m", "1.2.3g"]) {
    t.throws(() => parseSize(bad), {
      message: new RegExp(`^bad size "${bad.replace(".", "\\.")}": use a positive number`),
    });
  }
});

test("ars is the default guide's three workloads; overrides apply to every workload", (t) => {
  const ars = resolveProfile("ars");
  t.deepEqual(
    ars.workloads.map((workload) => [
      workload.id,
      workload.bs,
      workload.numjobs,
      workload.iodepth,
      formatFioSize(workload.size),
    ]),
    [
      ["randwrite-4k-qd1", 4096, 1, 1, "4g"],
      ["randwrite-64k-16x16", 65536, 16, 16, "256m"],
      ["randwrite-1m-qd1", 1048576, 1, 1, "16g"],
    ],
  );
  t.is(ars.runtimeSec, 60);
  t.is(ars.ioengine, "posixaio");
  const small = resolveProfile("ars", { runtimeSec: 3, size: "32m", ioengine: "libaio", direct: true });
  t.is(small.runtimeSec, 3);
  t.is(small.ioengine, "libaio");
  t.true(small.direct);
  t.true(small.workloads.every((workload) => workload.size === 32 * 1024 ** 2));
});

test("bad profile values are rejected naming the value and what is allowed", (t) => {
  t.throws(() => resolveProfile("nope"), {
    message: `unknown profile "nope": choose one of ${PROFILE_IDS.join(", ")}`,
  });
  t.throws(() => resolveProfile("ars", { runtimeSec: 0 }), {
    message: /bad runtime "0": use a whole number of seconds/,
  });
  t.throws(() => resolveProfile("ars", { runtimeSec: 1.5 }), { message: /bad runtime "1.5"/ });
  t.throws(() => resolveProfile("ars", { ioengine: "windowsaio" }), {
    message: /unknown ioengine "windowsaio": choose one of posixaio, libaio/,
  });
  t.throws(() => resolveProfile("kbench", { size: "lots" }), { message: /bad size "lots"/ });
});

test("every profile renders a job file fio accepts, on a directory and on a device", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const targets: FioTarget[] = [
    { kind: "directory", path: join(dir.path, "with:colon") },
    { kind: "device", path: "/dev/disk/by-id/virtio-blk-none" },
  ];
  for (const id of PROFILE_IDS) {
    for (const target of targets) {
      const text = renderJobFile(resolveProfile(id), target);
      const file = join(dir.path, `${id}-${target.kind}.fio`);
      await fs.writeFile(file, text);
      await t.notThrowsAsync(execFileAsync("fio", ["--parse-only", file]), `${id} on a ${target.kind}`);
      const sections = [...text.matchAll(/^\[([^\]]+)\]$/gm)]
        .map((match) => match[1])
        .filter((name) => name !== "global");
      t.deepEqual(
        sections,
        resolveProfile(id).workloads.map((workload) => workload.id),
      );
      t.is(text.match(/^stonewall$/gm)?.length, sections.length, "every workload is its own stonewall group");
      t.regex(text, /^group_reporting=1$/m);
    }
  }
  const device = renderJobFile(resolveProfile("ars"), targets[1]);
  t.regex(
    device,
    /\[randwrite-64k-16x16\]\nstonewall\nfilename=\/dev\/disk\/by-id\/virtio-blk-none\noffset_increment=256m\n/,
    "parallel jobs on a device get regions of their own",
  );
  t.regex(
    renderJobFile(resolveProfile("ars"), targets[0]),
    /directory=.*with\\:colon/,
    "a colon in a path is escaped for fio",
  );
  t.throws(() => renderJobFile(resolveProfile("ars"), { kind: "directory", path: "/a\nb" }), {
    message: /contains a line break/,
  });
});

test("etcd: the job etcd's maintainers give, size-bound with --runtime as its cap; --direct and --steady refused", (t) => {
  const text = renderJobFile(resolveProfile("etcd"), { kind: "directory", path: "/t" });
  // fio --rw=write --ioengine=sync --fdatasync=1 --size=22m --bs=2300 (etcd.io, Hardware recommendations).
  for (const line of ["ioengine=sync", "direct=0", "fdatasync=1", "rw=write", "bs=2300", "size=22m", "runtime=120"])
    t.regex(text, new RegExp(`^${line}$`, "m"), line);
  t.notRegex(text, /^time_based/m, "it ends when its 22 MiB are written");
  // fio's rbd engine fails a datasync (EINVAL); a sync is the same librbd flush.
  const rbd = renderJobFile(resolveProfile("etcd"), { kind: "rbd", pool: "p", image: "i", client: "c" });
  t.regex(rbd, /^fsync=1$/m);
  t.notRegex(rbd, /^fdatasync/m);
  t.regex(renderJobFile(resolveProfile("ars"), { kind: "directory", path: "/t" }), /^time_based=1$/m);
  t.throws(() => resolveProfile("etcd", { direct: true }), {
    message:
      "--direct is not allowed with profile etcd: its workload etcd-fdatasync writes 2300-byte blocks, and O_DIRECT needs multiples of 512 bytes",
  });
  t.throws(() => resolveProfile("etcd", { steady: true }), { message: /^--steady is not allowed with profile etcd/ });
});
