import { promises as fs } from "node:fs";
import { join } from "node:path";
import test from "ava";
import { jobFileProfile, selectProfile } from "../bench/core/job-file-profile.js";
import { renderJobFile, TARGET_REFERENCE } from "../bench/core/jobfile.js";
import { scratchDir } from "./helpers/fio.js";

// --profile FILE: your fio job file, each section a workload, its [global] kept, the target added.

const TWO_SECTIONS = `[global]
ioengine=libaio
direct=1
time_based=1
ramp_time=2s
runtime=30
size=1g

; 4 KiB random reads
[rr]
rw=randread
bs=4k
iodepth=32

[sw]
readwrite=write
blocksize=1m
numjobs=4
`;

test("two sections, a random read and a sequential write: two workloads with their directions and shapes", (t) => {
  const profile = jobFileProfile(TWO_SECTIONS, "/home/me/nvme.fio");
  t.is(profile.id, "nvme");
  t.like(profile, { ioengine: "libaio", direct: true, rampSec: 2, runtimeSec: 30 });
  t.deepEqual(
    profile.workloads.map(({ id, rw, bs, numjobs, iodepth, size }) => [id, rw, bs, numjobs, iodepth, size]),
    [
      ["rr", "randread", 4096, 1, 32, 1024 ** 3],
      ["sw", "write", 1024 ** 2, 4, 1, 1024 ** 3],
    ],
  );
});

test("the job file fio runs: yours, with group_reporting and the target in each section that names none", (t) => {
  const profile = jobFileProfile(TWO_SECTIONS, "nvme.fio");
  const text = renderJobFile(profile, { kind: "directory", path: TARGET_REFERENCE });
  t.true(text.includes(TWO_SECTIONS.split("\n")[3]), "your lines kept");
  t.regex(text, /\[global\]\ngroup_reporting=1\n/);
  t.regex(text, /\[rr\]\ndirectory=\$\{LAYERBENCH_TARGET\}\n/);
  t.regex(text, /\[sw\]\ndirectory=\$\{LAYERBENCH_TARGET\}\n/);
  const device = renderJobFile(profile, { kind: "device", path: TARGET_REFERENCE });
  t.regex(device, /\[sw\]\nfilename=\$\{LAYERBENCH_TARGET\}\noffset_increment=1g\n/, "four jobs, four regions");
  const own = jobFileProfile(`[global]\nsize=1m\nfilename=/dev/sdz\n[a]\nrw=read\n`, "own.fio");
  t.notRegex(renderJobFile(own, { kind: "directory", path: TARGET_REFERENCE }), /LAYERBENCH_TARGET/, "yours kept");
});

test("what layerbench cannot read is refused with the line, the section and what it reads", (t) => {
  t.throws(() => jobFileProfile("[global]\nsize=1m\n", "a.fio"), {
    message: "a.fio: no job section: each [section] is a workload",
  });
  t.throws(() => jobFileProfile("[x]\nrw=trim\nsize=1m\n", "a.fio"), {
    message: /a\.fio: \[x\] rw=trim: layerbench reads read, write/,
  });
  t.throws(() => jobFileProfile("[x]\nrw=read\n", "a.fio"), {
    message: "a.fio: [x] sets no size: give size= (per job) in the section or [global]",
  });
  t.throws(() => jobFileProfile("rw=read\n[x]\n", "a.fio"), {
    message: 'a.fio:1: "rw=read" comes before any [section]',
  });
  t.throws(() => jobFileProfile("[my job]\nsize=1m\n", "a.fio"), { message: /section \[my job\]: use letters/ });
});

test("--profile FILE: read from disk; the options the file sets are refused beside it; unknown names named", async (t) => {
  const dir = await scratchDir();
  t.teardown(dir.cleanup);
  const file = join(dir.path, "mine.fio");
  await fs.writeFile(file, TWO_SECTIONS);
  t.is((await selectProfile(file, {})).workloads.length, 2);
  t.deepEqual((await selectProfile(file, { stopWhenStable: { minRuns: 3, maxRsdPct: 3 } })).stopWhenStable, {
    minRuns: 3,
    maxRsdPct: 3,
  });
  await t.throwsAsync(selectProfile(file, { runtimeSec: 5, size: "1m" }), {
    message: `--runtime (runtime=), --size (size=) cannot change your job file ${file}: set it in the file`,
  });
  await t.throwsAsync(selectProfile("nope", {}), {
    message: 'unknown profile "nope": choose one of ars, kbench, etcd, or give a fio job file',
  });
  t.is((await selectProfile("kbench", { rampSec: 0 })).rampSec, 0);
});
