// jstat ships no types; layerbench uses one function of it: the quantile of Student's t distribution.
// It is CommonJS: Node's ES module loader hands over its exports as the default export.
declare module "jstat" {
  const jstat: {
    jStat: {
      studentt: {
        /** The p-quantile of Student's t distribution with `dof` degrees of freedom. */
        inv(p: number, dof: number): number;
      };
    };
  };
  export default jstat;
}
