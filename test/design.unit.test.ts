import test from "ava";
import { estimate, fitLeastSquares, logDetInformation, marginalMean, modelRow } from "../bench/core/linear-model.js";
import type { DesignRecord } from "../bench/core/results.js";
import { proposeConfirmation, renderConfirmation } from "../bench/plan/confirm.js";
import { dEfficiency, FULL_DESIGN, parseDesign } from "../bench/variants/design.js";
import { orthogonalArrays } from "../bench/variants/orthogonal-arrays.js";
import { expandVariants, type VariantMatrixInput, variantOptions } from "../bench/variants/vm-variants.js";
import { syntheticDocument, variant } from "./helpers/documents.js";

// The homelab stack's VM axes: 2 x 5 x 2 x 3 = 60 combinations, 48 valid (aio=native needs cache none/directsync).
const HOMELAB_AXES: VariantMatrixInput["axes"] = {
  bus: ["virtio-blk", "virtio-scsi-single"],
  cache: ["none", "directsync", "writethrough", "writeback", "unsafe"],
  iothread: [true, false],
  aio: ["io_uring", "native", "threads"],
};

const design = (kind: string, interactions: Array<[string, string]> = [], confirm: string[] = []) =>
  parseDesign(
    { design: kind, interactions, confirm },
    Object.keys(HOMELAB_AXES ?? {}),
    (key) => `layerbench:vmVariants.${key}`,
  );

function homelab(kind: string, interactions: Array<[string, string]> = []): DesignRecord {
  const { design: record } = expandVariants({ axes: HOMELAB_AXES }, design(kind, interactions));
  if (!record) throw new Error("no design record");
  return record;
}

test("main-effects: at most a third of the homelab's 48 variants, the defaults among them, the same every time", (t) => {
  const full = homelab("full");
  t.is(full.candidates.length, 48);
  t.is(full.chosen.length, 48);
  const chosen = homelab("main-effects");
  // The levels as tables, effects and `run --axes` say them: iothread on/off, not true/false.
  t.deepEqual(chosen.factors.find((factor) => factor.name === "iothread")?.levels, ["on", "off"]);
  // 1 + 1 (bus) + 4 (cache) + 1 (iothread) + 2 (aio) = 9 parameters, and 3 more for the error.
  t.is(chosen.chosen.length, 12);
  t.true(chosen.chosen.length <= 48 / 3);
  t.true(chosen.chosen.includes("blk-none-iot-uring"), "the all-defaults variant");
  t.deepEqual(homelab("main-effects").chosen, chosen.chosen, "deterministic");
  for (const factor of chosen.factors) {
    for (const level of factor.levels) {
      t.true(
        chosen.candidates.some(
          (candidate) => chosen.chosen.includes(candidate.id) && candidate.point[factor.name] === level,
        ),
        `${factor.name}=${level} measured`,
      );
    }
  }
  // D-optimal: a better determinant than the first 12 valid variants, which never change the bus.
  const model = { factors: chosen.factors, interactions: [] };
  const rowsOf = (ids: string[]) =>
    chosen.candidates.filter((candidate) => ids.includes(candidate.id)).map((c) => modelRow(model, c.point));
  t.is(logDetInformation(rowsOf(full.candidates.slice(0, 12).map((c) => c.id))), Number.NEGATIVE_INFINITY);
  t.true(Number.isFinite(logDetInformation(rowsOf(chosen.chosen))));
});

test("main-effects+interactions estimates the pair too: more variants, still fewer than the product", (t) => {
  const record = homelab("main-effects+interactions", [["cache", "iothread"]]);
  // 9 + 4 x 1 interaction parameters, and 4 more for the error.
  t.is(record.chosen.length, 17);
  t.deepEqual(record.interactions, [["cache", "iothread"]]);
});

test("a bad design, interaction or confirmation is refused naming it and what is allowed", (t) => {
  t.throws(() => design("fractional"), {
    message:
      'layerbench:vmVariants.design "fractional" is not allowed: use one of full, main-effects, main-effects+interactions',
  });
  t.throws(() => design("main-effects+interactions", [["cache", "bogus"]]), {
    message: /interactions \[cache, bogus\] is not allowed: use two different axes of bus, cache, iothread, aio/,
  });
  t.throws(() => design("main-effects+interactions"), { message: /needs layerbench:vmVariants.interactions/ });
  t.throws(() => design("main-effects", [["cache", "iothread"]]), {
    message: /interactions is only used with design main-effects\+interactions, not main-effects/,
  });
  t.throws(() => expandVariants({ axes: HOMELAB_AXES }, design("main-effects", [], ["blk-wb-iot-native"])), {
    message: /confirm: "blk-wb-iot-native" is not a valid variant of the axes/,
  });
  t.throws(() => parseDesign({ design: "main-effects" }, [], (key) => `layerbench:vmVariants.${key}`), {
    message: /needs axes/,
  });
});

test("confirmation variants are measured beside the design's and recorded apart", (t) => {
  const { variants, design: record } = expandVariants(
    { axes: HOMELAB_AXES },
    design("main-effects", [], ["scsi-unsafe-noiot-threads", "blk-none-iot-uring"]),
  );
  // The defaults are a design point already: only the other one is a confirmation.
  t.deepEqual(record?.confirm, ["scsi-unsafe-noiot-threads"]);
  t.is(variants.length, 13);
  // Last, so that adding it to a stack that measured the design leaves the other disks in their slots.
  t.is(variants.at(-1)?.id, "scsi-unsafe-noiot-threads");
  t.deepEqual(
    variants.slice(0, 12).map((variant) => variant.id),
    record?.chosen,
  );
  t.is(expandVariants({ axes: HOMELAB_AXES }, FULL_DESIGN).variants.length, 48);
});

// A deterministic source of normal noise (a linear congruential generator and Box-Muller).
function noise(seed: number): () => number {
  let state = seed;
  const uniform = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return (state + 1) / 2147483649;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

test("on a full cross product the least-squares effects are the geometric means of the runs per value", (t) => {
  // Every combination valid (no aio=native), 3 runs per variant: a complete, balanced cross product.
  const { design: record } = expandVariants(
    { axes: { bus: HOMELAB_AXES?.bus ?? [], cache: ["none", "writeback", "unsafe"], iothread: [true, false] } },
    FULL_DESIGN,
  );
  if (!record) throw new Error("no design record");
  const next = noise(7);
  const runs = record.candidates.flatMap((candidate) =>
    [0, 1, 2].map(() => ({ point: candidate.point, y: Math.log(0.5 + Math.abs(next())) })),
  );
  const fit = fitLeastSquares({ factors: record.factors, interactions: [] }, runs);
  if (!fit) throw new Error("not estimable");
  for (const factor of record.factors) {
    for (const level of factor.levels) {
      const logs = runs.filter((run) => run.point[factor.name] === level).map((run) => run.y);
      const geometricMean = Math.exp(logs.reduce((sum, y) => sum + y, 0) / logs.length);
      t.true(
        Math.abs(Math.exp(marginalMean(fit, factor.name, level).value) - geometricMean) < 1e-9,
        `${factor.name}=${level}`,
      );
    }
  }
});

/** A stack's results under a main-effects design where every axis moves IOPS, without noise. */
function designedResults(confirm: string[] = []) {
  const axes = HOMELAB_AXES ?? {};
  const { variants, design: record } = expandVariants({ axes }, design("main-effects", [], confirm));
  if (!record) throw new Error("no design record");
  const factor: Record<string, Record<string, number>> = {
    bus: { "virtio-blk": 1, "virtio-scsi-single": 0.9 },
    cache: { none: 0.5, directsync: 0.4, writethrough: 0.6, writeback: 1.5, unsafe: 2 },
    iothread: { true: 1.1, false: 1 },
    aio: { io_uring: 1, native: 1.05, threads: 0.95 },
  };
  const iops = (disk: (typeof variants)[number]) =>
    1000 *
    factor.bus[disk.bus] *
    factor.cache[disk.cache] *
    factor.iothread[String(disk.iothread)] *
    factor.aio[disk.aio];
  const document = syntheticDocument({ kind: "pulumi", project: "layerbench", stack: "homelab", runId: "1" }, [
    { spec: { ...variant("host-zvol", true), layer: "host" }, iops: { "rand-read-iops": [1000] } },
    ...variants.map((disk) => ({
      spec: { ...variant(disk.id), layer: "vm" as const, options: variantOptions(disk) },
      iops: { "rand-read-iops": [iops(disk)] },
    })),
  ]);
  document.designs = [record];
  return document;
}

test("plan --confirm proposes the predicted best and worst not measured, as stack keys; then nothing is left", (t) => {
  const first = designedResults();
  const [proposal] = proposeConfirmation(first, "results.json");
  // Best: blk, unsafe, iothread on and io_uring (aio native needs cache none or directsync): 2.2x. Worst: scsi,
  // directsync, iothread off, threads: 0.34x.
  t.deepEqual(
    [proposal.predictions[0].best.id, proposal.predictions[0].worst.id],
    ["blk-unsafe-iot-uring", "scsi-dsync-noiot-threads"],
  );
  t.is(Number(proposal.predictions[0].worst.ratio.toFixed(6)), Number((0.9 * 0.4 * 1 * 0.95).toFixed(6)));
  const unmeasured = [proposal.predictions[0].best, proposal.predictions[0].worst].filter(
    (p) => p.measured === undefined,
  );
  t.true(unmeasured.length > 0, "12 of 48 rarely hold both extremes");
  t.deepEqual(
    proposal.confirm,
    unmeasured.map((p) => p.id),
  );
  const text = renderConfirmation(first, "results.json", [proposal]);
  t.regex(text, new RegExp(`under layerbench:vmVariants: confirm: \\[${proposal.confirm.join(", ")}\\]`));
  t.regex(
    text,
    new RegExp(
      `pulumi config set --stack homelab --path 'layerbench:vmVariants\\.confirm\\[0\\]' ${proposal.confirm[0]}`,
    ),
  );
  t.regex(text, /layerbench matrix up --stack homelab/);
  // The next run measures them: predictions beside measurements, and nothing left to propose.
  const second = designedResults(proposal.confirm);
  t.deepEqual(second.designs?.[0].confirm, proposal.confirm);
  t.regex(
    renderConfirmation(second, "results.json", proposeConfirmation(second, "results.json")),
    /nothing left to confirm/,
  );
});

test("plan --confirm refuses results without a designed experiment", (t) => {
  const full = designedResults();
  full.designs = [{ ...(full.designs?.[0] as DesignRecord), kind: "full" }];
  t.throws(() => proposeConfirmation(full, "x.json"), { message: /x\.json records no designed experiment/ });
});

test("four two-level axes: the half fraction through the defaults, D-efficiency 1 (0.944 from one greedy pass)", (t) => {
  const { design: record } = expandVariants(
    {
      axes: {
        bus: ["virtio-blk", "virtio-scsi-single"],
        cache: ["none", "writeback"],
        iothread: [true, false],
        discard: ["on", "ignore"],
      },
    },
    parseDesign({ design: "main-effects" }, ["bus", "cache", "iothread", "discard"], (key) => key),
  );
  if (!record) throw new Error("no design record");
  t.is(record.chosen.length, 8);
  t.true(Math.abs(dEfficiency(record) - 1) < 1e-9, String(dEfficiency(record)));
  // Orthogonal in ±1 coding: every two axes' columns are balanced, and each axis is at each value 4 times.
  const signs = record.candidates
    .filter((candidate) => record.chosen.includes(candidate.id))
    .map((candidate) => record.factors.map((factor) => (candidate.point[factor.name] === factor.levels[0] ? -1 : 1)));
  for (let a = 0; a < 4; a += 1) {
    t.is(
      signs.reduce((sum, row) => sum + row[a], 0),
      0,
    );
    for (let b = a + 1; b < 4; b += 1)
      t.is(
        signs.reduce((sum, row) => sum + row[a] * row[b], 0),
        0,
      );
  }
  t.true(
    signs.some((row) => row.every((sign) => sign === -1)),
    "the all-defaults variant",
  );
});

test("the homelab's 12 of 48: D-efficiency 0.980 (0.971 from one greedy pass), the same every time", (t) => {
  const record = homelab("main-effects");
  t.is(Number(dEfficiency(record).toFixed(3)), 0.98);
  t.is(dEfficiency(homelab("full")), 1, "every candidate measured");
});

test("orthogonal arrays: a regular fraction and Plackett-Burman's 12 runs, each with the all-defaults run", (t) => {
  const twoLevel = (count: number) =>
    Array.from({ length: count }, (_, index) => ({ name: `f${index}`, levels: ["a", "b"] }));
  for (const [factors, size] of [
    [twoLevel(5), 8],
    [twoLevel(7), 8],
    [twoLevel(9), 12],
    [twoLevel(11), 12],
  ] as const) {
    const arrays = orthogonalArrays(factors, size);
    t.is(arrays.length, 1, `${factors.length} axes in ${size} runs`);
    const signs = arrays[0].map((point) => factors.map((factor) => (point[factor.name] === "a" ? -1 : 1)));
    t.is(signs.length, size);
    t.true(signs.some((row) => row.every((sign) => sign === -1)));
    for (let a = 0; a < factors.length; a += 1) {
      t.is(
        signs.reduce((sum, row) => sum + row[a], 0),
        0,
        `f${a} balanced`,
      );
      for (let b = a + 1; b < factors.length; b += 1)
        t.is(
          signs.reduce((sum, row) => sum + row[a] * row[b], 0),
          0,
          `f${a} and f${b} orthogonal`,
        );
    }
  }
  t.deepEqual(
    orthogonalArrays([{ name: "cache", levels: ["none", "writeback", "unsafe"] }], 9),
    [],
    "three levels: none",
  );
});

test("weighted least squares: the coefficients, their standard errors and the scale numpy computes", (t) => {
  // numpy 2 on the same data: beta = solve(X'WX, X'Wy), sigma^2 = sum(w r^2) / (n - p), se = sqrt(diag(sigma^2 (X'WX)^-1)).
  const spec = {
    factors: [
      { name: "a", levels: ["x", "y", "z"] },
      { name: "b", levels: ["p", "q"] },
    ],
    interactions: [],
  };
  const points = [
    ["x", "p"],
    ["y", "p"],
    ["z", "p"],
    ["x", "q"],
    ["y", "q"],
    ["z", "q"],
    ["x", "p"],
    ["z", "q"],
  ];
  const y = [0.1, 0.35, -0.2, 0.05, 0.42, -0.11, 0.14, -0.05];
  const weights = [1, 2, 3, 1, 0.5, 2, 4, 1.5];
  const fit = fitLeastSquares(
    spec,
    points.map(([a, b], index) => ({ point: { a, b }, y: y[index], weight: weights[index] })),
  );
  if (!fit) throw new Error("not estimable");
  const numpy = {
    beta: [0.10975697569756977, 0.24395139513951392, -0.2751575157515752, 0.05145814581458148],
    se: [0.03387325605874389, 0.06072942709908043, 0.048991511403877364, 0.04778165772063626],
    sigma: 0.08064657703237445,
  };
  for (const [index, value] of fit.coefficients.entries())
    t.true(Math.abs(value - numpy.beta[index]) < 1e-12, `beta ${index}`);
  t.true(Math.abs((fit.sigma ?? 0) - numpy.sigma) < 1e-12);
  for (const [index, value] of numpy.se.entries()) {
    const unit = Array.from({ length: 4 }, (_, column) => (column === index ? 1 : 0));
    t.true(Math.abs((estimate(fit, unit).se ?? 0) - value) < 1e-12, `se ${index}`);
  }
});
