import test from "ava";
import { measurementOrder, shuffled } from "../bench/core/measurement-order.js";
import { runOrder } from "../bench/local/order.js";
import { type LocalTarget, parseTargetSpec } from "../bench/local/targets.js";

// The order a local run measures in: the baseline first and again, the others shuffled by a recorded seed, a
// guest's disks together in one boot.

const directories = (count: number): LocalTarget[] =>
  Array.from({ length: count }, (_, index) => ({ name: `d${index}`, path: `/srv/d${index}` }));

test("a seed gives one order every time; another seed, another order; every target once", (t) => {
  const items = Array.from({ length: 20 }, (_, index) => index);
  t.deepEqual(shuffled(items, 42), shuffled(items, 42));
  t.notDeepEqual(shuffled(items, 42), shuffled(items, 43));
  t.deepEqual(
    [...shuffled(items, 42)].sort((a, b) => a - b),
    items,
  );
});

test("the baseline first, then again at the end from 2 others, and in the middle from 4", (t) => {
  t.deepEqual(measurementOrder("B", ["a"], undefined), ["B", "a"]);
  t.deepEqual(measurementOrder("B", ["a", "b", "c"], undefined), ["B", "a", "b", "c", "B"]);
  t.deepEqual(measurementOrder("B", ["a", "b", "c", "d", "e"], undefined), ["B", "a", "b", "c", "B", "d", "e", "B"]);
});

test("random order: over seeds, each target is as often in the first half as in the second", (t) => {
  const names = ["a", "b", "c", "d", "e", "f"];
  let early = 0;
  for (let seed = 0; seed < 600; seed += 1) {
    const order = measurementOrder("B", names, seed);
    if (order.indexOf("a") < order.length / 2) early += 1;
  }
  // Binomial(600, 0.5): 4 standard deviations are 49.
  t.true(Math.abs(early - 300) < 49, `${early} of 600`);
});

test("a run's steps: the baseline in three passes, a guest's disks one step, a seed's order again", (t) => {
  const targets = [
    ...directories(4),
    parseTargetSpec("v1=vm:bus=virtio-blk,cache=none"),
    parseTargetSpec("v2=vm:bus=virtio-blk,cache=writeback"),
  ];
  const { steps, sequence } = runOrder(targets, 9);
  const baselinePasses = steps.flatMap((step) =>
    step.kind === "target" && step.target === targets[0] ? [`${step.pass}/${step.passes}`] : [],
  );
  t.deepEqual(baselinePasses, ["1/3", "2/3", "3/3"]);
  t.is(steps[0].kind === "target" && steps[0].target.name, "d0");
  t.is(steps.filter((step) => step.kind === "guest").length, 1);
  t.deepEqual([...sequence].sort(), ["d0", "d0", "d0", "d1", "d2", "d3", "v1", "v2"]);
  t.deepEqual(runOrder(targets, 9).sequence, sequence, "the recorded seed measures in the same order");
  t.deepEqual(runOrder(targets, undefined).sequence, ["d0", "d1", "d2", "d0", "d3", "v1", "v2", "d0"]);
});

test("run --axes: the baseline before and after its guest's disks, measured in one boot in the seed's order", (t) => {
  const disks = ["none", "writeback", "directsync"].map((cache) =>
    parseTargetSpec(`${cache}=vm:bus=virtio-blk,cache=${cache}`),
  );
  const { steps, sequence } = runOrder([...directories(1), ...disks], 3);
  t.deepEqual(
    steps.map((step) => step.kind),
    ["target", "guest", "target"],
  );
  t.is(sequence[0], "d0");
  t.is(sequence.at(-1), "d0");
  t.deepEqual([...sequence.slice(1, -1)].sort(), ["directsync", "none", "writeback"]);
});

test("the order given keeps a guest's disks where the first of them was given", (t) => {
  const targets = [...directories(2), parseTargetSpec("v1=vm:bus=virtio-blk,cache=none"), ...directories(3).slice(2)];
  t.deepEqual(runOrder(targets, undefined).sequence, ["d0", "d1", "v1", "d2", "d0"]);
});

test("a baseline that is a guest's disk is measured once, first in its guest", (t) => {
  const targets = [
    parseTargetSpec("v1=vm:bus=virtio-blk,cache=none"),
    ...directories(3),
    parseTargetSpec("v2=vm:bus=virtio-blk,cache=writeback"),
  ];
  const { steps, sequence } = runOrder(targets, 5);
  const guest = steps.find((step) => step.kind === "guest");
  t.deepEqual(guest?.kind === "guest" && guest.targets.map((target) => target.name), ["v1", "v2"]);
  t.is(sequence.filter((name) => name === "v1").length, 1);
  t.is(sequence[0], "v1");
});
