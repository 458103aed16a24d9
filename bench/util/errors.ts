/** An error caused by the user's input or environment: the CLI prints its message alone, no stack trace. */
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
