// jstat ships no types; layerbench uses a few functions of it: Student's t, the F and chi-square distributions.
// It is CommonJS: Node's ES module loader hands over its exports as the default export.
declare module "jstat" {
  const jstat: {
    jStat: {
      studentt: {
        /** The p-quantile of Student's t distribution with `dof` degrees of freedom. */
        inv(p: number, dof: number): number;
        /** P(T <= t) with `dof` degrees of freedom. */
        cdf(t: number, dof: number): number;
      };
      centralF: {
        /** P(F <= f) with (df1, df2) degrees of freedom. */
        cdf(f: number, df1: number, df2: number): number;
      };
      chisquare: {
        /** P(X <= x) with `dof` degrees of freedom. */
        cdf(x: number, dof: number): number;
      };
    };
  };
  export default jstat;
}
