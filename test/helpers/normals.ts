/** Standard normals from seeded uniforms (Box-Muller, two uniforms each): the simulations' noise. */
export const normalsFrom =
  (draw: () => number): (() => number) =>
  () =>
    Math.sqrt(-2 * Math.log(draw() + 1e-12)) * Math.cos(2 * Math.PI * draw());
